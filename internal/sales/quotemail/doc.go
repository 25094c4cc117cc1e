// Package quotemail sends an issued quote to one of the deal's contacts and
// follows what the customer does with it (issue 6, item 4). The mail goes
// through salesmail, so it is an email activity with its own opens and
// clicks; it carries a signed link to a public view of that quote version
// (HTML and PDF), and each view is recorded on the contact and the deal and
// told to the deal's owner. It must not import web, api or app.
package quotemail
