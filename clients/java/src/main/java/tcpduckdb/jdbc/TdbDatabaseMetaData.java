package tcpduckdb.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.RowIdLifetime;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a database browser (DBeaver, IntelliJ) asks: the connected database is the catalog;
 * its schemas, tables, views and columns come from DuckDB's catalog functions
 * ({@code duckdb_tables()}, {@code duckdb_columns()}, ...), which only the super user may
 * query (docs/access-control.md). For other users the tables are those of their table grants
 * in this database ({@code list grants}) and their columns are read from
 * {@code SELECT * FROM t LIMIT 0}; a database-wide grant names no table, so none is listed
 * for it. Results are built in memory (catalogs are small). Lists that DuckDB has no notion
 * of here (procedures, foreign keys, indexes, privileges) are empty results with JDBC's
 * columns.
 */
final class TdbDatabaseMetaData implements DatabaseMetaData {
    private final TdbConnection conn;
    private Boolean catalogAllowed; // may this user query duckdb_tables() and the like?

    TdbDatabaseMetaData(TdbConnection conn) {
        this.conn = conn;
    }

    // ---- building results

    private static final class Cols {
        final List<Column> list = new ArrayList<>();

        Cols s(String... names) {
            for (String n : names)
                list.add(new Column(n, "VARCHAR"));
            return this;
        }

        Cols i(String... names) {
            for (String n : names)
                list.add(new Column(n, "INTEGER"));
            return this;
        }

        Cols h(String... names) {
            for (String n : names)
                list.add(new Column(n, "SMALLINT"));
            return this;
        }

        Cols b(String... names) {
            for (String n : names)
                list.add(new Column(n, "BOOLEAN"));
            return this;
        }
    }

    private static Wire.Num num(long n) {
        return new Wire.Num(Long.toString(n));
    }

    private ResultSet result(Cols cols, List<Object[]> rows) throws SQLException {
        TdbStatement owner = new TdbStatement(conn);
        owner.closeOnCompletion();
        TdbResultSet r = TdbResultSet.local(owner, cols.list, rows);
        owner.result = r;
        return r;
    }

    private ResultSet empty(Cols cols) throws SQLException {
        return result(cols, new ArrayList<>());
    }

    /** A JDBC name pattern (% and _, \ escapes) as a regex; null or "%" matches all. */
    static Pattern like(String pattern) {
        if (pattern == null)
            return null;
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\' && i + 1 < pattern.length())
                re.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
            else if (c == '%')
                re.append(".*");
            else if (c == '_')
                re.append('.');
            else
                re.append(Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    private static boolean matches(Pattern p, String s) {
        return p == null || (s != null && p.matcher(s).matches());
    }

    /** Whether catalog names this database (null: any; "": the one without a catalog). */
    private boolean catalogMatches(String catalog) {
        return catalog == null || catalog.equals(conn.databaseName());
    }

    /** Rows of a catalog query as strings (the super user's path); null when refused. */
    private List<String[]> catalogQuery(String sql) throws SQLException {
        if (conn.databaseName() == null)
            return new ArrayList<>();
        if (Boolean.FALSE.equals(catalogAllowed))
            return null;
        TdbStatement st = new TdbStatement(conn);
        List<String[]> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                String[] row = new String[n];
                for (int i = 0; i < n; i++)
                    row[i] = rs.getString(i + 1);
                out.add(row);
            }
        } catch (SQLException e) {
            String code = Errors.code(e);
            if ("ACCESS_DENIED".equals(code) || "BAD_REQUEST".equals(code) || "UNAUTHORIZED".equals(code)) {
                catalogAllowed = false;
                return null;
            }
            throw e;
        } finally {
            st.close();
        }
        catalogAllowed = true;
        return out;
    }

    private static String quoteSql(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    private static String quoteIdent(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    /** The tables of this user's table grants in the connected database: {schema, table}. */
    private List<String[]> grantedTables() throws SQLException {
        List<String[]> out = new ArrayList<>();
        String db = conn.databaseName();
        if (db == null)
            return out;
        Object grants = Wire.parse(conn.command("list grants"));
        if (!(grants instanceof List))
            return out;
        for (Object g : (List<?>) grants) {
            if (!(g instanceof Map))
                continue;
            Map<?, ?> m = (Map<?, ?>) g;
            Object table = m.get("table");
            if (db.equals(m.get("database")) && table instanceof String) {
                String t = (String) table;
                int dot = t.indexOf('.');
                out.add(dot > 0 ? new String[] {t.substring(0, dot), t.substring(dot + 1)}
                                : new String[] {"main", t});
            }
        }
        return out;
    }

    // ---- catalogs, schemas, tables, columns

    @Override
    public ResultSet getCatalogs() throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        if (conn.databaseName() != null)
            rows.add(new Object[] {conn.databaseName()});
        return result(new Cols().s("TABLE_CAT"), rows);
    }

    @Override
    public ResultSet getSchemas() throws SQLException {
        return getSchemas(null, null);
    }

    @Override
    public ResultSet getSchemas(String catalog, String schemaPattern) throws SQLException {
        Cols cols = new Cols().s("TABLE_SCHEM", "TABLE_CATALOG");
        List<Object[]> rows = new ArrayList<>();
        String db = conn.databaseName();
        if (db == null || !catalogMatches(catalog))
            return result(cols, rows);
        Pattern p = like(schemaPattern);
        List<String[]> found = catalogQuery("SELECT DISTINCT schema_name FROM duckdb_schemas() WHERE database_name = current_database() AND NOT internal ORDER BY 1");
        List<String> names = new ArrayList<>();
        if (found == null) {
            names.add("main");
        } else {
            for (String[] r : found)
                names.add(r[0]);
            if (!names.contains("main"))
                names.add(0, "main");
        }
        for (String s : names)
            if (matches(p, s))
                rows.add(new Object[] {s, db});
        return result(cols, rows);
    }

    @Override
    public ResultSet getTableTypes() throws SQLException {
        List<Object[]> rows = new ArrayList<>();
        for (String t : new String[] {"LOCAL TEMPORARY", "TABLE", "VIEW"})
            rows.add(new Object[] {t});
        return result(new Cols().s("TABLE_TYPE"), rows);
    }

    /** {schema, name, type, remarks} of the tables and views matching the patterns. */
    private List<String[]> tables(String catalog, String schemaPattern, String tablePattern, String[] types)
            throws SQLException {
        List<String[]> out = new ArrayList<>();
        String db = conn.databaseName();
        if (db == null || !catalogMatches(catalog))
            return out;
        Pattern sp = like(schemaPattern), tp = like(tablePattern);
        List<String> wanted = types == null ? null : Arrays.asList(types);
        List<String[]> found = catalogQuery(
                "SELECT schema_name, table_name, CASE WHEN temporary THEN 'LOCAL TEMPORARY' ELSE 'TABLE' END, comment "
                + "FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal "
                + "UNION ALL SELECT schema_name, view_name, 'VIEW', comment FROM duckdb_views() "
                + "WHERE database_name = current_database() AND NOT internal ORDER BY 3, 1, 2");
        if (found == null) {
            found = new ArrayList<>();
            for (String[] t : grantedTables())
                found.add(new String[] {t[0], t[1], "TABLE", null});
        }
        for (String[] r : found)
            if (matches(sp, r[0]) && matches(tp, r[1]) && (wanted == null || wanted.contains(r[2])))
                out.add(r);
        return out;
    }

    @Override
    public ResultSet getTables(String catalog, String schemaPattern, String tablePattern, String[] types)
            throws SQLException {
        Cols cols = new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS", "TYPE_CAT",
                                 "TYPE_SCHEM", "TYPE_NAME", "SELF_REFERENCING_COL_NAME", "REF_GENERATION");
        List<Object[]> rows = new ArrayList<>();
        for (String[] t : tables(catalog, schemaPattern, tablePattern, types))
            rows.add(new Object[] {conn.databaseName(), t[0], t[1], t[2], t[3], null, null, null, null, null});
        return result(cols, rows);
    }

    @Override
    public ResultSet getColumns(String catalog, String schemaPattern, String tablePattern, String columnPattern)
            throws SQLException {
        Cols cols = new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME").i("DATA_TYPE")
                            .s("TYPE_NAME").i("COLUMN_SIZE", "BUFFER_LENGTH", "DECIMAL_DIGITS", "NUM_PREC_RADIX",
                                              "NULLABLE")
                            .s("REMARKS", "COLUMN_DEF").i("SQL_DATA_TYPE", "SQL_DATETIME_SUB", "CHAR_OCTET_LENGTH",
                                                          "ORDINAL_POSITION")
                            .s("IS_NULLABLE", "SCOPE_CATALOG", "SCOPE_SCHEMA", "SCOPE_TABLE").h("SOURCE_DATA_TYPE")
                            .s("IS_AUTOINCREMENT", "IS_GENERATEDCOLUMN");
        List<Object[]> rows = new ArrayList<>();
        String db = conn.databaseName();
        if (db == null || !catalogMatches(catalog))
            return result(cols, rows);
        Pattern sp = like(schemaPattern), tp = like(tablePattern), cp = like(columnPattern);
        // {schema, table, column, position, type, nullable, default, remarks}
        List<String[]> found = catalogQuery(
                "SELECT schema_name, table_name, column_name, column_index, data_type, is_nullable, column_default, "
                + "comment FROM duckdb_columns() WHERE database_name = current_database()"
                + " AND NOT internal ORDER BY schema_name, table_name, column_index");
        if (found == null) {
            found = new ArrayList<>();
            for (String[] t : grantedTables()) {
                if (!matches(sp, t[0]) || !matches(tp, t[1]))
                    continue;
                TdbStatement st = new TdbStatement(conn);
                try (ResultSet rs = st.executeQuery("SELECT * FROM " + quoteIdent(t[0]) + "." + quoteIdent(t[1])
                                                    + " LIMIT 0")) {
                    List<Column> cs = ((TdbResultSet) rs).columns;
                    for (int i = 0; i < cs.size(); i++)
                        found.add(new String[] {t[0], t[1], cs.get(i).name, Integer.toString(i + 1), cs.get(i).type,
                                                null, null, null});
                } finally {
                    st.close();
                }
            }
        }
        for (String[] r : found) {
            if (!matches(sp, r[0]) || !matches(tp, r[1]) || !matches(cp, r[2]))
                continue;
            Column c = new Column(r[2], r[4]);
            int nullable = r[5] == null ? columnNullableUnknown : r[5].equals("true") ? columnNullable : columnNoNulls;
            Integer size = c.kind == Column.Kind.STRING || c.kind == Column.Kind.BLOB || c.kind == Column.Kind.NESTED
                                   ? null
                                   : c.precision;
            rows.add(new Object[] {db, r[0], r[1], r[2], num(c.sqlType), r[4], size == null ? null : num(size), null,
                                   c.kind == Column.Kind.DECIMAL ? num(c.scale) : null, num(10), num(nullable), r[7],
                                   r[6], null, null, null, num(Long.parseLong(r[3])),
                                   nullable == columnNullable ? "YES" : nullable == columnNoNulls ? "NO" : "", null,
                                   null, null, null, "NO", "NO"});
        }
        return result(cols, rows);
    }

    @Override
    public ResultSet getPrimaryKeys(String catalog, String schema, String table) throws SQLException {
        Cols cols = new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME").h("KEY_SEQ").s("PK_NAME");
        List<Object[]> rows = new ArrayList<>();
        String db = conn.databaseName();
        if (db == null || !catalogMatches(catalog) || table == null)
            return result(cols, rows);
        List<String[]> found = catalogQuery(
                "SELECT schema_name, table_name, unnest(constraint_column_names), "
                + "generate_subscripts(constraint_column_names, 1) FROM duckdb_constraints() WHERE database_name = current_database()"
                + " AND constraint_type = 'PRIMARY KEY' AND table_name = " + quoteSql(table)
                + (schema != null ? " AND schema_name = " + quoteSql(schema) : "") + " ORDER BY 1, 2, 4");
        if (found != null)
            for (String[] r : found)
                rows.add(new Object[] {db, r[0], r[1], r[2], num(Long.parseLong(r[3])), r[1] + "_pkey"});
        return result(cols, rows);
    }

    @Override
    public ResultSet getImportedKeys(String catalog, String schema, String table) throws SQLException {
        return empty(keyColumns());
    }

    @Override
    public ResultSet getExportedKeys(String catalog, String schema, String table) throws SQLException {
        return empty(keyColumns());
    }

    @Override
    public ResultSet getCrossReference(String pc, String ps, String pt, String fc, String fs, String ft)
            throws SQLException {
        return empty(keyColumns());
    }

    private static Cols keyColumns() {
        return new Cols().s("PKTABLE_CAT", "PKTABLE_SCHEM", "PKTABLE_NAME", "PKCOLUMN_NAME", "FKTABLE_CAT",
                            "FKTABLE_SCHEM", "FKTABLE_NAME", "FKCOLUMN_NAME")
                .h("KEY_SEQ", "UPDATE_RULE", "DELETE_RULE")
                .s("FK_NAME", "PK_NAME")
                .h("DEFERRABILITY");
    }

    @Override
    public ResultSet getIndexInfo(String catalog, String schema, String table, boolean unique, boolean approximate)
            throws SQLException {
        return empty(new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME").b("NON_UNIQUE")
                             .s("INDEX_QUALIFIER", "INDEX_NAME").h("TYPE", "ORDINAL_POSITION")
                             .s("COLUMN_NAME", "ASC_OR_DESC").i("CARDINALITY", "PAGES").s("FILTER_CONDITION"));
    }

    @Override
    public ResultSet getProcedures(String catalog, String schemaPattern, String procedurePattern)
            throws SQLException {
        return empty(new Cols().s("PROCEDURE_CAT", "PROCEDURE_SCHEM", "PROCEDURE_NAME", "RESERVED1", "RESERVED2",
                                  "RESERVED3", "REMARKS")
                             .h("PROCEDURE_TYPE")
                             .s("SPECIFIC_NAME"));
    }

    @Override
    public ResultSet getProcedureColumns(String c, String s, String p, String col) throws SQLException {
        return empty(new Cols().s("PROCEDURE_CAT", "PROCEDURE_SCHEM", "PROCEDURE_NAME", "COLUMN_NAME")
                             .h("COLUMN_TYPE").i("DATA_TYPE").s("TYPE_NAME").i("PRECISION", "LENGTH")
                             .h("SCALE", "RADIX", "NULLABLE").s("REMARKS", "COLUMN_DEF")
                             .i("SQL_DATA_TYPE", "SQL_DATETIME_SUB", "CHAR_OCTET_LENGTH", "ORDINAL_POSITION")
                             .s("IS_NULLABLE", "SPECIFIC_NAME"));
    }

    @Override
    public ResultSet getFunctions(String catalog, String schemaPattern, String functionPattern)
            throws SQLException {
        return empty(new Cols().s("FUNCTION_CAT", "FUNCTION_SCHEM", "FUNCTION_NAME", "REMARKS")
                             .h("FUNCTION_TYPE").s("SPECIFIC_NAME"));
    }

    @Override
    public ResultSet getFunctionColumns(String c, String s, String f, String col) throws SQLException {
        return empty(new Cols().s("FUNCTION_CAT", "FUNCTION_SCHEM", "FUNCTION_NAME", "COLUMN_NAME")
                             .h("COLUMN_TYPE").i("DATA_TYPE").s("TYPE_NAME").i("PRECISION", "LENGTH")
                             .h("SCALE", "RADIX", "NULLABLE").s("REMARKS").i("CHAR_OCTET_LENGTH", "ORDINAL_POSITION")
                             .s("IS_NULLABLE", "SPECIFIC_NAME"));
    }

    @Override
    public ResultSet getTablePrivileges(String c, String s, String t) throws SQLException {
        return empty(new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "GRANTOR", "GRANTEE", "PRIVILEGE",
                                  "IS_GRANTABLE"));
    }

    @Override
    public ResultSet getColumnPrivileges(String c, String s, String t, String col) throws SQLException {
        return empty(new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "GRANTOR", "GRANTEE",
                                  "PRIVILEGE", "IS_GRANTABLE"));
    }

    @Override
    public ResultSet getBestRowIdentifier(String c, String s, String t, int scope, boolean nullable)
            throws SQLException {
        return empty(new Cols().h("SCOPE").s("COLUMN_NAME").i("DATA_TYPE").s("TYPE_NAME")
                             .i("COLUMN_SIZE", "BUFFER_LENGTH").h("DECIMAL_DIGITS", "PSEUDO_COLUMN"));
    }

    @Override
    public ResultSet getVersionColumns(String c, String s, String t) throws SQLException {
        return empty(new Cols().h("SCOPE").s("COLUMN_NAME").i("DATA_TYPE").s("TYPE_NAME")
                             .i("COLUMN_SIZE", "BUFFER_LENGTH").h("DECIMAL_DIGITS", "PSEUDO_COLUMN"));
    }

    @Override
    public ResultSet getUDTs(String c, String s, String t, int[] types) throws SQLException {
        return empty(new Cols().s("TYPE_CAT", "TYPE_SCHEM", "TYPE_NAME", "CLASS_NAME").i("DATA_TYPE")
                             .s("REMARKS").h("BASE_TYPE"));
    }

    @Override
    public ResultSet getSuperTypes(String c, String s, String t) throws SQLException {
        return empty(new Cols().s("TYPE_CAT", "TYPE_SCHEM", "TYPE_NAME", "SUPERTYPE_CAT", "SUPERTYPE_SCHEM",
                                  "SUPERTYPE_NAME"));
    }

    @Override
    public ResultSet getSuperTables(String c, String s, String t) throws SQLException {
        return empty(new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "SUPERTABLE_NAME"));
    }

    @Override
    public ResultSet getAttributes(String c, String s, String t, String a) throws SQLException {
        return empty(new Cols().s("TYPE_CAT", "TYPE_SCHEM", "TYPE_NAME", "ATTR_NAME").i("DATA_TYPE")
                             .s("ATTR_TYPE_NAME").i("ATTR_SIZE", "DECIMAL_DIGITS", "NUM_PREC_RADIX", "NULLABLE")
                             .s("REMARKS", "ATTR_DEF").i("SQL_DATA_TYPE", "SQL_DATETIME_SUB", "CHAR_OCTET_LENGTH",
                                                          "ORDINAL_POSITION")
                             .s("IS_NULLABLE", "SCOPE_CATALOG", "SCOPE_SCHEMA", "SCOPE_TABLE").h("SOURCE_DATA_TYPE"));
    }

    @Override
    public ResultSet getPseudoColumns(String c, String s, String t, String col) throws SQLException {
        return empty(new Cols().s("TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME").i("DATA_TYPE")
                             .i("COLUMN_SIZE", "DECIMAL_DIGITS", "NUM_PREC_RADIX")
                             .s("COLUMN_USAGE", "REMARKS").i("CHAR_OCTET_LENGTH").s("IS_NULLABLE"));
    }

    @Override
    public ResultSet getClientInfoProperties() throws SQLException {
        return empty(new Cols().s("NAME").i("MAX_LEN").s("DEFAULT_VALUE", "DESCRIPTION"));
    }

    /** DuckDB's main types and what JDBC makes of them. */
    @Override
    public ResultSet getTypeInfo() throws SQLException {
        Cols cols = new Cols().s("TYPE_NAME").i("DATA_TYPE", "PRECISION").s("LITERAL_PREFIX", "LITERAL_SUFFIX",
                                                                            "CREATE_PARAMS")
                            .h("NULLABLE").b("CASE_SENSITIVE").h("SEARCHABLE")
                            .b("UNSIGNED_ATTRIBUTE", "FIXED_PREC_SCALE", "AUTO_INCREMENT").s("LOCAL_TYPE_NAME")
                            .h("MINIMUM_SCALE", "MAXIMUM_SCALE").i("SQL_DATA_TYPE", "SQL_DATETIME_SUB",
                                                                   "NUM_PREC_RADIX");
        List<Object[]> rows = new ArrayList<>();
        String[] names = {"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                          "UINTEGER", "UBIGINT", "UHUGEINT", "DECIMAL(38,0)", "FLOAT", "DOUBLE", "VARCHAR", "BLOB",
                          "DATE", "TIME", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "INTERVAL", "UUID"};
        for (String n : names) {
            Column c = new Column(n, n);
            String name = n.startsWith("DECIMAL") ? "DECIMAL" : n;
            boolean quoted = c.kind == Column.Kind.STRING || c.kind == Column.Kind.BLOB || c.kind == Column.Kind.UUID
                             || c.kind == Column.Kind.DATE || c.kind == Column.Kind.TIME
                             || c.kind == Column.Kind.TIMESTAMP || c.kind == Column.Kind.TIMESTAMPTZ;
            rows.add(new Object[] {name, num(c.sqlType), num(c.precision), quoted ? "'" : null, quoted ? "'" : null,
                                   name.equals("DECIMAL") ? "precision,scale" : null, num(typeNullable),
                                   c.kind == Column.Kind.STRING, num(typeSearchable), !c.signed(),
                                   name.equals("DECIMAL"), false, null, num(0),
                                   num(name.equals("DECIMAL") ? 38 : 0), null, null, num(10)});
        }
        return result(cols, rows);
    }

    // ---- the product and the driver

    private String productVersion;

    @Override
    public String getDatabaseProductName() {
        return "TCP-DuckDB";
    }

    /** DuckDB's version as the server runs it (its version() function), when it answers. */
    @Override
    public String getDatabaseProductVersion() throws SQLException {
        if (productVersion == null) {
            productVersion = "unknown";
            if (conn.databaseName() != null) {
                TdbStatement st = new TdbStatement(conn);
                try (ResultSet rs = st.executeQuery("SELECT version()")) {
                    if (rs.next())
                        productVersion = rs.getString(1);
                } catch (SQLException e) {
                    if (Errors.code(e) == null)
                        throw e;
                } finally {
                    st.close();
                }
            }
        }
        return productVersion;
    }

    private int versionPart(int i) throws SQLException {
        String[] parts = getDatabaseProductVersion().replaceFirst("^v", "").split("[.-]");
        try {
            return Integer.parseInt(parts[i]);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    @Override
    public int getDatabaseMajorVersion() throws SQLException {
        return versionPart(0);
    }

    @Override
    public int getDatabaseMinorVersion() throws SQLException {
        return versionPart(1);
    }

    @Override
    public String getDriverName() {
        return "TCP-DuckDB JDBC driver";
    }

    @Override
    public String getDriverVersion() {
        return Driver.MAJOR + "." + Driver.MINOR;
    }

    @Override
    public int getDriverMajorVersion() {
        return Driver.MAJOR;
    }

    @Override
    public int getDriverMinorVersion() {
        return Driver.MINOR;
    }

    @Override
    public int getJDBCMajorVersion() {
        return 4;
    }

    @Override
    public int getJDBCMinorVersion() {
        return 2;
    }

    @Override
    public String getURL() {
        Config c = conn.cfg;
        return Config.PREFIX + "//" + c.address() + "/" + (conn.databaseName() == null ? "" : conn.databaseName());
    }

    @Override
    public String getUserName() {
        return conn.cfg.user;
    }

    @Override
    public Connection getConnection() {
        return conn;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    // ---- names and syntax

    @Override
    public String getIdentifierQuoteString() {
        return "\"";
    }

    @Override
    public String getSearchStringEscape() {
        return "\\";
    }

    @Override
    public String getExtraNameCharacters() {
        return "";
    }

    @Override
    public String getCatalogSeparator() {
        return ".";
    }

    @Override
    public String getCatalogTerm() {
        return "database";
    }

    @Override
    public String getSchemaTerm() {
        return "schema";
    }

    @Override
    public String getProcedureTerm() {
        return "procedure";
    }

    @Override
    public boolean isCatalogAtStart() {
        return true;
    }

    @Override
    public String getSQLKeywords() {
        return "";
    }

    @Override
    public String getNumericFunctions() {
        return "abs,ceil,floor,round,sqrt,power,exp,ln,log10,sin,cos,tan,pi,sign,mod";
    }

    @Override
    public String getStringFunctions() {
        return "concat,length,lower,upper,substring,trim,ltrim,rtrim,replace,position,left,right,repeat";
    }

    @Override
    public String getSystemFunctions() {
        return "";
    }

    @Override
    public String getTimeDateFunctions() {
        return "current_date,current_time,current_timestamp,date_part,date_trunc,now";
    }

    // DuckDB identifiers are case-insensitive, quoted or not, and kept as written.
    @Override
    public boolean supportsMixedCaseIdentifiers() {
        return false;
    }

    @Override
    public boolean storesUpperCaseIdentifiers() {
        return false;
    }

    @Override
    public boolean storesLowerCaseIdentifiers() {
        return false;
    }

    @Override
    public boolean storesMixedCaseIdentifiers() {
        return true;
    }

    @Override
    public boolean supportsMixedCaseQuotedIdentifiers() {
        return false;
    }

    @Override
    public boolean storesUpperCaseQuotedIdentifiers() {
        return false;
    }

    @Override
    public boolean storesLowerCaseQuotedIdentifiers() {
        return false;
    }

    @Override
    public boolean storesMixedCaseQuotedIdentifiers() {
        return true;
    }

    // DuckDB sorts NULLs last in either direction by default.
    @Override
    public boolean nullsAreSortedHigh() {
        return false;
    }

    @Override
    public boolean nullsAreSortedLow() {
        return false;
    }

    @Override
    public boolean nullsAreSortedAtStart() {
        return false;
    }

    @Override
    public boolean nullsAreSortedAtEnd() {
        return true;
    }

    @Override
    public boolean nullPlusNonNullIsNull() {
        return true;
    }

    @Override
    public boolean allProceduresAreCallable() {
        return false;
    }

    @Override
    public boolean allTablesAreSelectable() {
        return false; // table grants decide
    }

    @Override
    public boolean usesLocalFiles() {
        return false;
    }

    @Override
    public boolean usesLocalFilePerTable() {
        return false;
    }

    // ---- what the SQL supports (DuckDB's dialect)

    @Override
    public boolean supportsAlterTableWithAddColumn() {
        return true;
    }

    @Override
    public boolean supportsAlterTableWithDropColumn() {
        return true;
    }

    @Override
    public boolean supportsColumnAliasing() {
        return true;
    }

    @Override
    public boolean supportsConvert() {
        return false;
    }

    @Override
    public boolean supportsConvert(int from, int to) {
        return false;
    }

    @Override
    public boolean supportsTableCorrelationNames() {
        return true;
    }

    @Override
    public boolean supportsDifferentTableCorrelationNames() {
        return false;
    }

    @Override
    public boolean supportsExpressionsInOrderBy() {
        return true;
    }

    @Override
    public boolean supportsOrderByUnrelated() {
        return true;
    }

    @Override
    public boolean supportsGroupBy() {
        return true;
    }

    @Override
    public boolean supportsGroupByUnrelated() {
        return true;
    }

    @Override
    public boolean supportsGroupByBeyondSelect() {
        return true;
    }

    @Override
    public boolean supportsLikeEscapeClause() {
        return true;
    }

    @Override
    public boolean supportsMultipleResultSets() {
        return false;
    }

    @Override
    public boolean supportsMultipleTransactions() {
        return true;
    }

    @Override
    public boolean supportsNonNullableColumns() {
        return true;
    }

    @Override
    public boolean supportsMinimumSQLGrammar() {
        return true;
    }

    @Override
    public boolean supportsCoreSQLGrammar() {
        return true;
    }

    @Override
    public boolean supportsExtendedSQLGrammar() {
        return false;
    }

    @Override
    public boolean supportsANSI92EntryLevelSQL() {
        return true;
    }

    @Override
    public boolean supportsANSI92IntermediateSQL() {
        return false;
    }

    @Override
    public boolean supportsANSI92FullSQL() {
        return false;
    }

    @Override
    public boolean supportsIntegrityEnhancementFacility() {
        return false;
    }

    @Override
    public boolean supportsOuterJoins() {
        return true;
    }

    @Override
    public boolean supportsFullOuterJoins() {
        return true;
    }

    @Override
    public boolean supportsLimitedOuterJoins() {
        return true;
    }

    @Override
    public boolean supportsSchemasInDataManipulation() {
        return true;
    }

    @Override
    public boolean supportsSchemasInProcedureCalls() {
        return false;
    }

    @Override
    public boolean supportsSchemasInTableDefinitions() {
        return true;
    }

    @Override
    public boolean supportsSchemasInIndexDefinitions() {
        return true;
    }

    @Override
    public boolean supportsSchemasInPrivilegeDefinitions() {
        return false;
    }

    @Override
    public boolean supportsCatalogsInDataManipulation() {
        return false;
    }

    @Override
    public boolean supportsCatalogsInProcedureCalls() {
        return false;
    }

    @Override
    public boolean supportsCatalogsInTableDefinitions() {
        return false;
    }

    @Override
    public boolean supportsCatalogsInIndexDefinitions() {
        return false;
    }

    @Override
    public boolean supportsCatalogsInPrivilegeDefinitions() {
        return false;
    }

    @Override
    public boolean supportsPositionedDelete() {
        return false;
    }

    @Override
    public boolean supportsPositionedUpdate() {
        return false;
    }

    @Override
    public boolean supportsSelectForUpdate() {
        return false;
    }

    @Override
    public boolean supportsStoredProcedures() {
        return false;
    }

    @Override
    public boolean supportsSubqueriesInComparisons() {
        return true;
    }

    @Override
    public boolean supportsSubqueriesInExists() {
        return true;
    }

    @Override
    public boolean supportsSubqueriesInIns() {
        return true;
    }

    @Override
    public boolean supportsSubqueriesInQuantifieds() {
        return true;
    }

    @Override
    public boolean supportsCorrelatedSubqueries() {
        return true;
    }

    @Override
    public boolean supportsUnion() {
        return true;
    }

    @Override
    public boolean supportsUnionAll() {
        return true;
    }

    @Override
    public boolean supportsOpenCursorsAcrossCommit() {
        return false;
    }

    @Override
    public boolean supportsOpenCursorsAcrossRollback() {
        return false;
    }

    @Override
    public boolean supportsOpenStatementsAcrossCommit() {
        return true;
    }

    @Override
    public boolean supportsOpenStatementsAcrossRollback() {
        return true;
    }

    // ---- limits: none that JDBC can express (0: unknown or none)

    @Override
    public int getMaxBinaryLiteralLength() {
        return 0;
    }

    @Override
    public int getMaxCharLiteralLength() {
        return 0;
    }

    @Override
    public int getMaxColumnNameLength() {
        return 0;
    }

    @Override
    public int getMaxColumnsInGroupBy() {
        return 0;
    }

    @Override
    public int getMaxColumnsInIndex() {
        return 0;
    }

    @Override
    public int getMaxColumnsInOrderBy() {
        return 0;
    }

    @Override
    public int getMaxColumnsInSelect() {
        return 0;
    }

    @Override
    public int getMaxColumnsInTable() {
        return 0;
    }

    @Override
    public int getMaxConnections() {
        return 0;
    }

    @Override
    public int getMaxCursorNameLength() {
        return 0;
    }

    @Override
    public int getMaxIndexLength() {
        return 0;
    }

    @Override
    public int getMaxSchemaNameLength() {
        return 0;
    }

    @Override
    public int getMaxProcedureNameLength() {
        return 0;
    }

    /** Database names: [A-Za-z_][A-Za-z0-9_]{0,62} (docs/protocol.md, "Names"). */
    @Override
    public int getMaxCatalogNameLength() {
        return 63;
    }

    @Override
    public int getMaxRowSize() {
        return 0;
    }

    @Override
    public boolean doesMaxRowSizeIncludeBlobs() {
        return false;
    }

    /** The server's MaxRequestBytes (default 1 MiB) bounds a request; JDBC's 0 says unknown. */
    @Override
    public int getMaxStatementLength() {
        return 0;
    }

    @Override
    public int getMaxStatements() {
        return 0;
    }

    @Override
    public int getMaxTableNameLength() {
        return 0;
    }

    @Override
    public int getMaxTablesInSelect() {
        return 0;
    }

    @Override
    public int getMaxUserNameLength() {
        return 63;
    }

    // ---- transactions and results

    @Override
    public int getDefaultTransactionIsolation() {
        return Connection.TRANSACTION_SERIALIZABLE;
    }

    @Override
    public boolean supportsTransactions() {
        return true;
    }

    /** DuckDB's snapshot isolation; a weaker level asked for gets it too. */
    @Override
    public boolean supportsTransactionIsolationLevel(int level) {
        return level == Connection.TRANSACTION_SERIALIZABLE;
    }

    @Override
    public boolean supportsDataDefinitionAndDataManipulationTransactions() {
        return true;
    }

    @Override
    public boolean supportsDataManipulationTransactionsOnly() {
        return false;
    }

    @Override
    public boolean dataDefinitionCausesTransactionCommit() {
        return false;
    }

    @Override
    public boolean dataDefinitionIgnoredInTransactions() {
        return false;
    }

    @Override
    public boolean supportsResultSetType(int type) {
        return type == ResultSet.TYPE_FORWARD_ONLY;
    }

    @Override
    public boolean supportsResultSetConcurrency(int type, int concurrency) {
        return type == ResultSet.TYPE_FORWARD_ONLY && concurrency == ResultSet.CONCUR_READ_ONLY;
    }

    @Override
    public boolean ownUpdatesAreVisible(int type) {
        return false;
    }

    @Override
    public boolean ownDeletesAreVisible(int type) {
        return false;
    }

    @Override
    public boolean ownInsertsAreVisible(int type) {
        return false;
    }

    @Override
    public boolean othersUpdatesAreVisible(int type) {
        return false;
    }

    @Override
    public boolean othersDeletesAreVisible(int type) {
        return false;
    }

    @Override
    public boolean othersInsertsAreVisible(int type) {
        return false;
    }

    @Override
    public boolean updatesAreDetected(int type) {
        return false;
    }

    @Override
    public boolean deletesAreDetected(int type) {
        return false;
    }

    @Override
    public boolean insertsAreDetected(int type) {
        return false;
    }

    @Override
    public boolean supportsBatchUpdates() {
        return true;
    }

    @Override
    public boolean supportsSavepoints() {
        return false;
    }

    @Override
    public boolean supportsNamedParameters() {
        return false;
    }

    @Override
    public boolean supportsMultipleOpenResults() {
        return false;
    }

    @Override
    public boolean supportsGetGeneratedKeys() {
        return false;
    }

    @Override
    public boolean supportsResultSetHoldability(int holdability) {
        return holdability == ResultSet.CLOSE_CURSORS_AT_COMMIT;
    }

    @Override
    public int getResultSetHoldability() {
        return ResultSet.CLOSE_CURSORS_AT_COMMIT;
    }

    @Override
    public int getSQLStateType() {
        return sqlStateSQL;
    }

    @Override
    public boolean locatorsUpdateCopy() {
        return false;
    }

    @Override
    public boolean supportsStatementPooling() {
        return false;
    }

    @Override
    public RowIdLifetime getRowIdLifetime() {
        return RowIdLifetime.ROWID_UNSUPPORTED;
    }

    @Override
    public boolean supportsStoredFunctionsUsingCallSyntax() {
        return false;
    }

    @Override
    public boolean autoCommitFailureClosesAllResultSets() {
        return false;
    }

    @Override
    public boolean generatedKeyAlwaysReturned() {
        return false;
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this))
            return iface.cast(this);
        throw Errors.usage("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }
}
