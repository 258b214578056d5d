-- The demo's database and Cutover's own login on the compose SQL Server, run once by the sqlserver-init service
-- (sqlcmd: $(CUTOVER_DB_PASSWORD) comes from its environment). Least privilege, as docs/sqlserver.md explains:
-- dbcreator to create, snapshot, restore and drop copies; db_owner of the application database to back it up
-- and migrate it. Cutover never needs sysadmin.
IF DB_ID(N'app') IS NULL CREATE DATABASE [app];
GO
IF SUSER_ID(N'cutover') IS NULL
  CREATE LOGIN [cutover] WITH PASSWORD = N'$(CUTOVER_DB_PASSWORD)', CHECK_POLICY = OFF
ELSE
  ALTER LOGIN [cutover] WITH PASSWORD = N'$(CUTOVER_DB_PASSWORD)';
GO
ALTER SERVER ROLE [dbcreator] ADD MEMBER [cutover];
GO
USE [app];
IF USER_ID(N'cutover') IS NULL CREATE USER [cutover] FOR LOGIN [cutover];
ALTER ROLE [db_owner] ADD MEMBER [cutover];
GO
