-- Roles and database for Shopfloor on a fresh PostgreSQL container.
--
-- Mounted into /docker-entrypoint-initdb.d/ by docker/compose.yaml, so it runs
-- once, as the superuser, when the data volume is first initialised. It is the
-- SQL of app/platform/bootstrap.py (`python -m app.cli db-setup`) for the
-- fixed names used in compose.yaml; keep the two in step.
--
--   shopfloor_owner  owns the database and schema, runs migrations; BYPASSRLS
--                    so data migrations can backfill across tenants.
--   shopfloor_app    what the app connects as: NOSUPERUSER NOBYPASSRLS, owns
--                    nothing, gets DML through default privileges, so row-level
--                    security applies to it.
--
-- Passwords come from the container's environment (psql's \getenv, psql 15+):
-- SHOPFLOOR_OWNER_PASSWORD and SHOPFLOOR_APP_PASSWORD.

\set ON_ERROR_STOP on

\getenv owner_password SHOPFLOOR_OWNER_PASSWORD
\getenv app_password SHOPFLOOR_APP_PASSWORD

\if :{?owner_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'SHOPFLOOR_OWNER_PASSWORD is not set'; END $$;
\endif
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'SHOPFLOOR_APP_PASSWORD is not set'; END $$;
\endif

-- Cluster level (the volume is empty, so plain CREATE is enough).
CREATE ROLE shopfloor_owner LOGIN PASSWORD :'owner_password' NOSUPERUSER BYPASSRLS;
CREATE ROLE shopfloor_app LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE shopfloor OWNER shopfloor_owner;

-- Inside the new database.
\connect shopfloor

ALTER SCHEMA public OWNER TO shopfloor_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO shopfloor_app;
GRANT CONNECT ON DATABASE shopfloor TO shopfloor_app;
-- Tables and sequences the owner creates later (migrations) get DML rights.
ALTER DEFAULT PRIVILEGES FOR ROLE shopfloor_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO shopfloor_app;
ALTER DEFAULT PRIVILEGES FOR ROLE shopfloor_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO shopfloor_app;
-- Functions (e.g. the SECURITY DEFINER webhook router) are executable by the app.
ALTER DEFAULT PRIVILEGES FOR ROLE shopfloor_owner IN SCHEMA public
  GRANT EXECUTE ON FUNCTIONS TO shopfloor_app;
-- No-ops on a fresh database (bootstrap.py grants per kind of table on an existing
-- one); the migrations then take writes on the platform's global tables away.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO shopfloor_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO shopfloor_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO shopfloor_app;
