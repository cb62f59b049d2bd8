package io.pgtide.relay.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pgtide.relay.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.ds.PGSimpleDataSource;

/** A statement without placeholders reports zero parameters without the server; everything else is the driver's. */
class ParameterCountDataSourceTest {

    private TestDatabase db;
    private DataSource dataSource;

    @BeforeEach
    void database() throws SQLException {
        db = TestDatabase.create();
        PGSimpleDataSource driver = new PGSimpleDataSource();
        driver.setUrl(db.jdbcUrl());
        driver.setUser("postgres");
        driver.setPassword("postgres");
        dataSource = new ParameterCountDataSource(driver);
    }

    @AfterEach
    void drop() throws SQLException {
        db.close();
    }

    @Test
    void aStatementWithoutPlaceholdersCountsItsParametersWithoutTheServer() throws Exception {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT 1 AS one")) {
            // the server process is gone: only an answer that needs no round trip can come back
            int pid = c.unwrap(PGConnection.class).getBackendPID();
            db.execute("SELECT pg_terminate_backend(" + pid + ")");
            assertEquals(0, ps.getParameterMetaData().getParameterCount());
            assertThrows(SQLException.class, () -> ps.getParameterMetaData().getParameterType(1));
        }
    }

    @Test
    void aStatementWithPlaceholdersIsTheDriversAndRunsAsUsual() throws Exception {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT ?::int + ?::int AS sum")) {
            assertEquals(2, ps.getParameterMetaData().getParameterCount());
            ps.setInt(1, 2);
            ps.setInt(2, 3);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(5, rs.getInt("sum"));
            }
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT 41 + 1")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(42, rs.getInt(1));
            }
        }
    }
}
