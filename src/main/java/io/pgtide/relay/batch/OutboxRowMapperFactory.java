package io.pgtide.relay.batch;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import org.apache.camel.component.sql.DefaultRowMapperFactory;
import org.apache.camel.component.sql.RowMapperFactory;
import org.springframework.jdbc.core.ColumnMapRowMapper;
import org.springframework.jdbc.core.RowMapper;

/**
 * camel-sql's row mapping for the relay ({@code camel.component.sql.rowMapperFactory}): a result with the columns
 * of a poll becomes {@link OutboxRow}s read straight from the driver; any other query keeps camel-sql's column maps.
 * A column map per row, with its case-insensitive keys and driver objects, was the largest item in the drain's profile.
 */
public final class OutboxRowMapperFactory implements RowMapperFactory {

    private final RowMapperFactory defaults = new DefaultRowMapperFactory();

    @Override
    public RowMapper<?> newColumnRowMapper() {
        return new PollRowMapper();
    }

    @Override
    public RowMapper<?> newBeanRowMapper(Class<?> mappedClass) {
        return defaults.newBeanRowMapper(mappedClass);
    }

    /** One per query: the first row decides, from the result's columns, how every row is read. */
    private static final class PollRowMapper implements RowMapper<Object> {
        private final ColumnMapRowMapper columnMaps = new ColumnMapRowMapper();
        private int[] columns;
        private boolean poll;

        @Override
        public Object mapRow(ResultSet rs, int rowNum) throws SQLException {
            if (columns == null) {
                columns = pollColumns(rs.getMetaData());
                poll = columns.length > 0;
            }
            if (!poll) {
                return columnMaps.mapRow(rs, rowNum);
            }
            return new OutboxRow(rs.getString(columns[0]), rs.getString(columns[1]), rs.getLong(columns[2]),
                    rs.getString(columns[3]), rs.getString(columns[4]), rs.getString(columns[5]), rs.getString(columns[6]),
                    rs.getString(columns[7]), rs.getString(columns[8]));
        }

        /** The position of each poll column, or none when the result lacks one of them. */
        private static int[] pollColumns(ResultSetMetaData meta) throws SQLException {
            int[] positions = new int[OutboxRow.COLUMNS.length];
            for (int i = 0; i < positions.length; i++) {
                for (int column = 1; column <= meta.getColumnCount() && positions[i] == 0; column++) {
                    if (OutboxRow.COLUMNS[i].equalsIgnoreCase(meta.getColumnLabel(column))) {
                        positions[i] = column;
                    }
                }
                if (positions[i] == 0) {
                    return new int[0];
                }
            }
            return positions;
        }
    }
}
