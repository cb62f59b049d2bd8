package io.pgtide.relay.testing;

import java.sql.Connection;
import java.sql.SQLException;

/** A PostgreSQL server a {@link TestDatabase} can live on: the shared test server or a private {@link PgCluster}. */
public interface DatabaseServer {

    String host();

    int port();

    /** JDBC URL of a database on this server, without credentials. */
    String jdbcUrl(String database);

    /** A superuser session on a database of this server. */
    Connection connect(String database) throws SQLException;
}
