-- Undoes 0003_add_title.sql, should the live version fail on the expanded schema.
ALTER TABLE notes DROP COLUMN title;
