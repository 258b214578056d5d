-- Undoes 0005_rename_body_to_text.sql when the old version fails on the expanded schema.
ALTER TABLE notes RENAME COLUMN text TO body;
