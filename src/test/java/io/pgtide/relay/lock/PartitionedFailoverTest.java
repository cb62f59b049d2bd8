package io.pgtide.relay.lock;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.SQLException;

/**
 * The failover tests on partitioned storage: partitions of 20 transaction ids, so the messages lie in several
 * partitions and, once the ranges created ahead are used up, in the DEFAULT partition.
 */
class PartitionedFailoverTest extends FailoverTest {

    @Override
    TestDatabase database() throws SQLException {
        return TestDatabase.withPartitionedOutbox("orders", 20);
    }
}
