-- Who wrote each note. The default keeps version 1.0.0, which does not know authors, working on this schema.
ALTER TABLE notes ADD COLUMN author text NOT NULL DEFAULT 'anonymous';
