package io.pgtide.relay.db;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * The relay's pool as routes see it: a prepared statement whose SQL has no {@code ?} reports zero parameters
 * without asking the server. camel-sql's consumer asks for the parameter count before every poll, and PgJDBC
 * answers {@code getParameterMetaData} with two round trips (describe, then sync): more than the poll itself
 * costs when there is nothing to deliver. Every other call goes to the pool unchanged.
 */
public final class ParameterCountDataSource extends DelegatingDataSource {

    public ParameterCountDataSource(DataSource pool) {
        super(pool);
    }

    @Override
    public Connection getConnection() throws SQLException {
        return withShortcut(obtainTargetDataSource().getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return withShortcut(obtainTargetDataSource().getConnection(username, password));
    }

    private static Connection withShortcut(Connection connection) {
        return proxy(Connection.class, connection, (method, args) -> {
            Object result = invoke(connection, method, args);
            boolean noPlaceholder = method.getName().equals("prepareStatement") && args[0] instanceof String sql
                    && sql.indexOf('?') < 0;
            return noPlaceholder ? withoutParameters((PreparedStatement) result) : result;
        });
    }

    private static PreparedStatement withoutParameters(PreparedStatement statement) {
        return proxy(PreparedStatement.class, statement, (method, args) ->
                method.getName().equals("getParameterMetaData") && method.getParameterCount() == 0
                        ? NO_PARAMETERS : invoke(statement, method, args));
    }

    /** The metadata of a statement without parameters: every parameter index is out of range. */
    private static final ParameterMetaData NO_PARAMETERS = proxy(ParameterMetaData.class, null, (method, args) -> {
        if (method.getName().equals("getParameterCount")) {
            return 0;
        }
        if (method.getName().equals("isWrapperFor")) {
            return false;
        }
        throw new SQLException("the statement has no parameters (" + method.getName() + ")", "22023");
    });

    private interface Call {
        Object apply(Method method, Object[] args) throws Throwable;
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, Object target, Call call) {
        InvocationHandler handler = (proxy, method, args) -> switch (method.getName()) {
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            case "toString" -> type.getSimpleName() + " of " + target;
            default -> call.apply(method, args);
        };
        return (T) Proxy.newProxyInstance(ParameterCountDataSource.class.getClassLoader(), new Class<?>[] {type}, handler);
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
