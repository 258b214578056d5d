-- Expand: an optional title for each note. Nullable and without a default, so version 2.0.0, which does not know titles, keeps working on it.
ALTER TABLE notes ADD COLUMN title text;
