// Package content owns the content library shared by marketing and sales:
// assets (case studies, white papers, slides, links) that are an external
// URL or an uploaded file kept in the database, tagged by topic, industry and
// funnel stage, optionally gated behind a marketing form; their public pages;
// the per-contact signed share links a rep sends, whose views become
// content_view events (with asset_id and topics for interest profiles), a
// timeline entry and a notification to the contact's owner; and battle cards
// (assets linked to a competitor). It imports platform and crm; never web,
// api, httpx or app.
package content
