-- Faulty on purpose: "ADD COLUMNN" is a syntax error, so this migration fails (migration-failed).
ALTER TABLE notes ADD COLUMNN tags text[] NOT NULL DEFAULT '{}';
