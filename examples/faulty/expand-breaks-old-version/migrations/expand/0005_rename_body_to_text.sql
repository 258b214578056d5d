-- Wrongly filed as expand: version 3.0.0 reads and writes notes.body, so renaming it breaks the old version.
-- (The backward-compatible way: add the new column here, copy and keep both in sync, drop the old one in a later contract.)
ALTER TABLE notes RENAME COLUMN body TO text;
