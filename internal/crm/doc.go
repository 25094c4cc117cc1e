// Package crm owns the one customer record: companies, contacts (a lead is a
// contact at an early lifecycle stage), deals, pipelines, activities and
// custom properties. It writes to the platform substrate (audit, timeline,
// lifecycle history) and imports db, errs, clock and platform, never web or api.
package crm
