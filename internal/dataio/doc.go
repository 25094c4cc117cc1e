// Package dataio owns data in and data out: CSV import of contacts and
// companies (encoding detection, column mapping and presets, value parsers,
// dedupe, the resumable import job, the error report, undo) and streamed CSV
// export of list views. It writes through db in bounded batches and records
// to the platform substrate (jobs, audit, timeline); it imports crm, platform,
// db, errs and clock, never web or api.
package dataio
