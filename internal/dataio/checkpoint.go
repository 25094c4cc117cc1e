package dataio

import (
	"context"

	"github.com/ryorin/ryorin/internal/db"
)

// importWALPages is the writer's checkpoint threshold while an import runs
// on SQLite: 8,000 pages (32 MB of WAL, under journal_size_limit's 64 MB).
// An import batch writes about 1,000 WAL pages (each new contact dirties a
// page in every randomly ordered index), so at the writer's usual threshold
// (4,000 pages, db.OpenSQLite) every fourth batch or so copied the WAL into
// the database file inside its own commit, holding the writer. With the
// higher threshold the copying is done by the checkpointer below on a reader
// connection while the next batch is written; the writer still checkpoints
// itself when the WAL passes the threshold, so the WAL stays bounded even if
// the background copy falls behind, and that checkpoint then has only the
// last batch or two left to copy. See ADR 0023.
const importWALPages = 8000

// startCheckpoints raises the writer's checkpoint threshold for an import
// on SQLite; while it is raised every commit starts a background checkpoint
// (db.RaiseWALAutocheckpoint). The returned function waits for that
// checkpoint and puts the threshold back (imports running at the same time
// share the raise). On PostgreSQL it does nothing.
func startCheckpoints(ctx context.Context, d *db.DB) func() {
	restore, err := d.RaiseWALAutocheckpoint(ctx, importWALPages)
	if err != nil {
		return func() {} // the default threshold is as safe, only slower
	}
	return restore
}
