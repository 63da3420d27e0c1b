-- Per-workflow `concurrency`: at most max_running runs of the workflow at once.
CREATE TABLE workflow_limits (
    workflow     TEXT    PRIMARY KEY,
    max_running  INTEGER NOT NULL CHECK (max_running > 0)
) WITHOUT ROWID;

CREATE INDEX runs_by_workflow_status ON runs (workflow, status);
