-- Where each document of a version was read from: the absolute, canonical path of its file,
-- and of the path given to ingest that found it (a folder, a pattern's fixed prefix, or a
-- named file's folder). Prune and status find a document's file by these, so they mean the
-- same thing from any working directory, and a missing root (an unmounted disk, a moved
-- checkout) can be told apart from deleted files. NULL for documents ingested before.
ALTER TABLE version_documents ADD COLUMN file TEXT;
ALTER TABLE version_documents ADD COLUMN root TEXT;
