-- Temporal's two databases, made by the postgres image on its first start (docker-entrypoint-initdb.d): an empty
-- volume only, so a restart never touches them. The schemas are temporal-schema's job.
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
