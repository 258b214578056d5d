-- Drops the author column, which version 2.0.0 still writes: in readwrite-replay mode every note the clone (2.0.0)
-- accepted carries an author, so its replay onto this schema is a conflict, reported and kept, not applied.
ALTER TABLE notes DROP COLUMN author;
