// Package salesmail owns one-to-one email from Ryorin: a rep composes mail to
// a contact from the contact's or a deal's record, it is queued through
// platform.Mailer (a durable job that never sends twice), logged as an email
// activity through crm (so the contact, company and deal timelines show it),
// and tracked by signed open and click links whose hits count on the message
// and land on the contact's timeline as events. Replies come back through the
// inbound API (a mail provider's inbound webhook or a small forwarder posts
// them), attributed to a rep by the per-user reply address. It imports
// platform, crm and marketing/email (the template engine); never web, api,
// httpx or app.
package salesmail
