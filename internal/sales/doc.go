// Package sales owns the rep's working day: the today page's blocks (leads
// waiting for a first touch, due tasks, today's meetings, re-engaged contacts,
// stale deals), the private calendar feed of a user's meetings and tasks, and
// the daily report (日報) with its manager comments; and negotiation: the price
// list, a deal's line items, quote settings, issued quotes and discount
// approvals (the document's arithmetic and PDF live in quote); and after the
// sale: renewal deals and tasks created ahead of time from won recurring deals
// (the periodic sales.renewals job, once per source deal), and customer issues
// (問い合わせ/トラブル) with their notifications and timeline. It reads the CRM's tables
// and the lead queue and writes to the platform substrate (notifications,
// audit); it must not import web, api or app.
package sales
