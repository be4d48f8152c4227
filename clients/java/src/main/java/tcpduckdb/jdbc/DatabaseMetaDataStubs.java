package tcpduckdb.jdbc;

import java.sql.*;

/** A body for every method of {@code DatabaseMetaData}, each throwing
 * SQLFeatureNotSupportedException: the driver's class overrides every method it implements. */
abstract class DatabaseMetaDataStubs implements DatabaseMetaData {
    @Override
    public boolean allProceduresAreCallable() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.allProceduresAreCallable");
    }

    @Override
    public boolean allTablesAreSelectable() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.allTablesAreSelectable");
    }

    @Override
    public String getURL() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getURL");
    }

    @Override
    public String getUserName() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getUserName");
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.isReadOnly");
    }

    @Override
    public boolean nullsAreSortedHigh() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.nullsAreSortedHigh");
    }

    @Override
    public boolean nullsAreSortedLow() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.nullsAreSortedLow");
    }

    @Override
    public boolean nullsAreSortedAtStart() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.nullsAreSortedAtStart");
    }

    @Override
    public boolean nullsAreSortedAtEnd() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.nullsAreSortedAtEnd");
    }

    @Override
    public String getDatabaseProductName() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getDatabaseProductName");
    }

    @Override
    public String getDatabaseProductVersion() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getDatabaseProductVersion");
    }

    @Override
    public String getDriverName() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getDriverName");
    }

    @Override
    public String getDriverVersion() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getDriverVersion");
    }

    @Override
    public int getDriverMajorVersion() {
        throw new UnsupportedOperationException("DatabaseMetaData.getDriverMajorVersion");
    }

    @Override
    public int getDriverMinorVersion() {
        throw new UnsupportedOperationException("DatabaseMetaData.getDriverMinorVersion");
    }

    @Override
    public boolean usesLocalFiles() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.usesLocalFiles");
    }

    @Override
    public boolean usesLocalFilePerTable() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.usesLocalFilePerTable");
    }

    @Override
    public boolean supportsMixedCaseIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsMixedCaseIdentifiers");
    }

    @Override
    public boolean storesUpperCaseIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.storesUpperCaseIdentifiers");
    }

    @Override
    public boolean storesLowerCaseIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.storesLowerCaseIdentifiers");
    }

    @Override
    public boolean storesMixedCaseIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.storesMixedCaseIdentifiers");
    }

    @Override
    public boolean supportsMixedCaseQuotedIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsMixedCaseQuotedIdentifiers");
    }

    @Override
    public boolean storesUpperCaseQuotedIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.storesUpperCaseQuotedIdentifiers");
    }

    @Override
    public boolean storesLowerCaseQuotedIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.storesLowerCaseQuotedIdentifiers");
    }

    @Override
    public boolean storesMixedCaseQuotedIdentifiers() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.storesMixedCaseQuotedIdentifiers");
    }

    @Override
    public String getIdentifierQuoteString() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getIdentifierQuoteString");
    }

    @Override
    public String getSQLKeywords() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSQLKeywords");
    }

    @Override
    public String getNumericFunctions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getNumericFunctions");
    }

    @Override
    public String getStringFunctions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getStringFunctions");
    }

    @Override
    public String getSystemFunctions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSystemFunctions");
    }

    @Override
    public String getTimeDateFunctions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getTimeDateFunctions");
    }

    @Override
    public String getSearchStringEscape() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSearchStringEscape");
    }

    @Override
    public String getExtraNameCharacters() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getExtraNameCharacters");
    }

    @Override
    public boolean supportsAlterTableWithAddColumn() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsAlterTableWithAddColumn");
    }

    @Override
    public boolean supportsAlterTableWithDropColumn() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsAlterTableWithDropColumn");
    }

    @Override
    public boolean supportsColumnAliasing() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsColumnAliasing");
    }

    @Override
    public boolean nullPlusNonNullIsNull() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.nullPlusNonNullIsNull");
    }

    @Override
    public boolean supportsConvert() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsConvert");
    }

    @Override
    public boolean supportsConvert(int a0, int a1) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsConvert");
    }

    @Override
    public boolean supportsTableCorrelationNames() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsTableCorrelationNames");
    }

    @Override
    public boolean supportsDifferentTableCorrelationNames() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsDifferentTableCorrelationNames");
    }

    @Override
    public boolean supportsExpressionsInOrderBy() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsExpressionsInOrderBy");
    }

    @Override
    public boolean supportsOrderByUnrelated() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsOrderByUnrelated");
    }

    @Override
    public boolean supportsGroupBy() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsGroupBy");
    }

    @Override
    public boolean supportsGroupByUnrelated() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsGroupByUnrelated");
    }

    @Override
    public boolean supportsGroupByBeyondSelect() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsGroupByBeyondSelect");
    }

    @Override
    public boolean supportsLikeEscapeClause() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsLikeEscapeClause");
    }

    @Override
    public boolean supportsMultipleResultSets() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsMultipleResultSets");
    }

    @Override
    public boolean supportsMultipleTransactions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsMultipleTransactions");
    }

    @Override
    public boolean supportsNonNullableColumns() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsNonNullableColumns");
    }

    @Override
    public boolean supportsMinimumSQLGrammar() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsMinimumSQLGrammar");
    }

    @Override
    public boolean supportsCoreSQLGrammar() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsCoreSQLGrammar");
    }

    @Override
    public boolean supportsExtendedSQLGrammar() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsExtendedSQLGrammar");
    }

    @Override
    public boolean supportsANSI92EntryLevelSQL() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsANSI92EntryLevelSQL");
    }

    @Override
    public boolean supportsANSI92IntermediateSQL() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsANSI92IntermediateSQL");
    }

    @Override
    public boolean supportsANSI92FullSQL() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsANSI92FullSQL");
    }

    @Override
    public boolean supportsIntegrityEnhancementFacility() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsIntegrityEnhancementFacility");
    }

    @Override
    public boolean supportsOuterJoins() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsOuterJoins");
    }

    @Override
    public boolean supportsFullOuterJoins() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsFullOuterJoins");
    }

    @Override
    public boolean supportsLimitedOuterJoins() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsLimitedOuterJoins");
    }

    @Override
    public String getSchemaTerm() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSchemaTerm");
    }

    @Override
    public String getProcedureTerm() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getProcedureTerm");
    }

    @Override
    public String getCatalogTerm() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getCatalogTerm");
    }

    @Override
    public boolean isCatalogAtStart() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.isCatalogAtStart");
    }

    @Override
    public String getCatalogSeparator() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getCatalogSeparator");
    }

    @Override
    public boolean supportsSchemasInDataManipulation() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSchemasInDataManipulation");
    }

    @Override
    public boolean supportsSchemasInProcedureCalls() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSchemasInProcedureCalls");
    }

    @Override
    public boolean supportsSchemasInTableDefinitions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSchemasInTableDefinitions");
    }

    @Override
    public boolean supportsSchemasInIndexDefinitions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSchemasInIndexDefinitions");
    }

    @Override
    public boolean supportsSchemasInPrivilegeDefinitions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSchemasInPrivilegeDefinitions");
    }

    @Override
    public boolean supportsCatalogsInDataManipulation() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsCatalogsInDataManipulation");
    }

    @Override
    public boolean supportsCatalogsInProcedureCalls() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsCatalogsInProcedureCalls");
    }

    @Override
    public boolean supportsCatalogsInTableDefinitions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsCatalogsInTableDefinitions");
    }

    @Override
    public boolean supportsCatalogsInIndexDefinitions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsCatalogsInIndexDefinitions");
    }

    @Override
    public boolean supportsCatalogsInPrivilegeDefinitions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsCatalogsInPrivilegeDefinitions");
    }

    @Override
    public boolean supportsPositionedDelete() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsPositionedDelete");
    }

    @Override
    public boolean supportsPositionedUpdate() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsPositionedUpdate");
    }

    @Override
    public boolean supportsSelectForUpdate() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSelectForUpdate");
    }

    @Override
    public boolean supportsStoredProcedures() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsStoredProcedures");
    }

    @Override
    public boolean supportsSubqueriesInComparisons() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSubqueriesInComparisons");
    }

    @Override
    public boolean supportsSubqueriesInExists() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSubqueriesInExists");
    }

    @Override
    public boolean supportsSubqueriesInIns() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSubqueriesInIns");
    }

    @Override
    public boolean supportsSubqueriesInQuantifieds() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSubqueriesInQuantifieds");
    }

    @Override
    public boolean supportsCorrelatedSubqueries() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsCorrelatedSubqueries");
    }

    @Override
    public boolean supportsUnion() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsUnion");
    }

    @Override
    public boolean supportsUnionAll() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsUnionAll");
    }

    @Override
    public boolean supportsOpenCursorsAcrossCommit() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsOpenCursorsAcrossCommit");
    }

    @Override
    public boolean supportsOpenCursorsAcrossRollback() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsOpenCursorsAcrossRollback");
    }

    @Override
    public boolean supportsOpenStatementsAcrossCommit() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsOpenStatementsAcrossCommit");
    }

    @Override
    public boolean supportsOpenStatementsAcrossRollback() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsOpenStatementsAcrossRollback");
    }

    @Override
    public int getMaxBinaryLiteralLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxBinaryLiteralLength");
    }

    @Override
    public int getMaxCharLiteralLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxCharLiteralLength");
    }

    @Override
    public int getMaxColumnNameLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxColumnNameLength");
    }

    @Override
    public int getMaxColumnsInGroupBy() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxColumnsInGroupBy");
    }

    @Override
    public int getMaxColumnsInIndex() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxColumnsInIndex");
    }

    @Override
    public int getMaxColumnsInOrderBy() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxColumnsInOrderBy");
    }

    @Override
    public int getMaxColumnsInSelect() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxColumnsInSelect");
    }

    @Override
    public int getMaxColumnsInTable() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxColumnsInTable");
    }

    @Override
    public int getMaxConnections() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxConnections");
    }

    @Override
    public int getMaxCursorNameLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxCursorNameLength");
    }

    @Override
    public int getMaxIndexLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxIndexLength");
    }

    @Override
    public int getMaxSchemaNameLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxSchemaNameLength");
    }

    @Override
    public int getMaxProcedureNameLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxProcedureNameLength");
    }

    @Override
    public int getMaxCatalogNameLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxCatalogNameLength");
    }

    @Override
    public int getMaxRowSize() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxRowSize");
    }

    @Override
    public boolean doesMaxRowSizeIncludeBlobs() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.doesMaxRowSizeIncludeBlobs");
    }

    @Override
    public int getMaxStatementLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxStatementLength");
    }

    @Override
    public int getMaxStatements() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxStatements");
    }

    @Override
    public int getMaxTableNameLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxTableNameLength");
    }

    @Override
    public int getMaxTablesInSelect() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxTablesInSelect");
    }

    @Override
    public int getMaxUserNameLength() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getMaxUserNameLength");
    }

    @Override
    public int getDefaultTransactionIsolation() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getDefaultTransactionIsolation");
    }

    @Override
    public boolean supportsTransactions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsTransactions");
    }

    @Override
    public boolean supportsTransactionIsolationLevel(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsTransactionIsolationLevel");
    }

    @Override
    public boolean supportsDataDefinitionAndDataManipulationTransactions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsDataDefinitionAndDataManipulationTransactions");
    }

    @Override
    public boolean supportsDataManipulationTransactionsOnly() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsDataManipulationTransactionsOnly");
    }

    @Override
    public boolean dataDefinitionCausesTransactionCommit() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.dataDefinitionCausesTransactionCommit");
    }

    @Override
    public boolean dataDefinitionIgnoredInTransactions() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.dataDefinitionIgnoredInTransactions");
    }

    @Override
    public ResultSet getProcedures(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getProcedures");
    }

    @Override
    public ResultSet getProcedureColumns(String a0, String a1, String a2, String a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getProcedureColumns");
    }

    @Override
    public ResultSet getTables(String a0, String a1, String a2, String[] a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getTables");
    }

    @Override
    public ResultSet getSchemas() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSchemas");
    }

    @Override
    public ResultSet getCatalogs() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getCatalogs");
    }

    @Override
    public ResultSet getTableTypes() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getTableTypes");
    }

    @Override
    public ResultSet getColumns(String a0, String a1, String a2, String a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getColumns");
    }

    @Override
    public ResultSet getColumnPrivileges(String a0, String a1, String a2, String a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getColumnPrivileges");
    }

    @Override
    public ResultSet getTablePrivileges(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getTablePrivileges");
    }

    @Override
    public ResultSet getBestRowIdentifier(String a0, String a1, String a2, int a3, boolean a4) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getBestRowIdentifier");
    }

    @Override
    public ResultSet getVersionColumns(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getVersionColumns");
    }

    @Override
    public ResultSet getPrimaryKeys(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getPrimaryKeys");
    }

    @Override
    public ResultSet getImportedKeys(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getImportedKeys");
    }

    @Override
    public ResultSet getExportedKeys(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getExportedKeys");
    }

    @Override
    public ResultSet getCrossReference(String a0, String a1, String a2, String a3, String a4, String a5) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getCrossReference");
    }

    @Override
    public ResultSet getTypeInfo() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getTypeInfo");
    }

    @Override
    public ResultSet getIndexInfo(String a0, String a1, String a2, boolean a3, boolean a4) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getIndexInfo");
    }

    @Override
    public boolean supportsResultSetType(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsResultSetType");
    }

    @Override
    public boolean supportsResultSetConcurrency(int a0, int a1) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsResultSetConcurrency");
    }

    @Override
    public boolean ownUpdatesAreVisible(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.ownUpdatesAreVisible");
    }

    @Override
    public boolean ownDeletesAreVisible(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.ownDeletesAreVisible");
    }

    @Override
    public boolean ownInsertsAreVisible(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.ownInsertsAreVisible");
    }

    @Override
    public boolean othersUpdatesAreVisible(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.othersUpdatesAreVisible");
    }

    @Override
    public boolean othersDeletesAreVisible(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.othersDeletesAreVisible");
    }

    @Override
    public boolean othersInsertsAreVisible(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.othersInsertsAreVisible");
    }

    @Override
    public boolean updatesAreDetected(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.updatesAreDetected");
    }

    @Override
    public boolean deletesAreDetected(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.deletesAreDetected");
    }

    @Override
    public boolean insertsAreDetected(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.insertsAreDetected");
    }

    @Override
    public boolean supportsBatchUpdates() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsBatchUpdates");
    }

    @Override
    public ResultSet getUDTs(String a0, String a1, String a2, int[] a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getUDTs");
    }

    @Override
    public Connection getConnection() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getConnection");
    }

    @Override
    public boolean supportsSavepoints() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsSavepoints");
    }

    @Override
    public boolean supportsNamedParameters() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsNamedParameters");
    }

    @Override
    public boolean supportsMultipleOpenResults() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsMultipleOpenResults");
    }

    @Override
    public boolean supportsGetGeneratedKeys() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsGetGeneratedKeys");
    }

    @Override
    public ResultSet getSuperTypes(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSuperTypes");
    }

    @Override
    public ResultSet getSuperTables(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSuperTables");
    }

    @Override
    public ResultSet getAttributes(String a0, String a1, String a2, String a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getAttributes");
    }

    @Override
    public boolean supportsResultSetHoldability(int a0) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsResultSetHoldability");
    }

    @Override
    public int getResultSetHoldability() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getResultSetHoldability");
    }

    @Override
    public int getDatabaseMajorVersion() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getDatabaseMajorVersion");
    }

    @Override
    public int getDatabaseMinorVersion() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getDatabaseMinorVersion");
    }

    @Override
    public int getJDBCMajorVersion() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getJDBCMajorVersion");
    }

    @Override
    public int getJDBCMinorVersion() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getJDBCMinorVersion");
    }

    @Override
    public int getSQLStateType() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSQLStateType");
    }

    @Override
    public boolean locatorsUpdateCopy() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.locatorsUpdateCopy");
    }

    @Override
    public boolean supportsStatementPooling() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsStatementPooling");
    }

    @Override
    public RowIdLifetime getRowIdLifetime() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getRowIdLifetime");
    }

    @Override
    public ResultSet getSchemas(String a0, String a1) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getSchemas");
    }

    @Override
    public boolean supportsStoredFunctionsUsingCallSyntax() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.supportsStoredFunctionsUsingCallSyntax");
    }

    @Override
    public boolean autoCommitFailureClosesAllResultSets() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.autoCommitFailureClosesAllResultSets");
    }

    @Override
    public ResultSet getClientInfoProperties() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getClientInfoProperties");
    }

    @Override
    public ResultSet getFunctions(String a0, String a1, String a2) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getFunctions");
    }

    @Override
    public ResultSet getFunctionColumns(String a0, String a1, String a2, String a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getFunctionColumns");
    }

    @Override
    public ResultSet getPseudoColumns(String a0, String a1, String a2, String a3) throws SQLException {
        throw Unsupported.method("DatabaseMetaData.getPseudoColumns");
    }

    @Override
    public boolean generatedKeyAlwaysReturned() throws SQLException {
        throw Unsupported.method("DatabaseMetaData.generatedKeyAlwaysReturned");
    }
}
