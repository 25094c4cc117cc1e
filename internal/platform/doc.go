// Package platform is the shared substrate every Ryorin capability writes to:
// workspace settings, users, teams, roles, sessions and API tokens, the audit
// log, the timeline, lifecycle history, the channel taxonomy, events, durable
// jobs, notifications, the mail sender and signed links. Capabilities build
// no private copies of these. It imports db, errs and clock, never crm, web or
// api.
package platform
