// Package sequences owns sales sequences: a rep's personal series of timed
// emails, calls and tasks that a contact is enrolled in, and that stops by
// itself when the contact replies or books a meeting (docs/adr/0016-sequences.md).
// Each step runs in one short write transaction whose first write is the
// step's record, so no step ever runs twice. Emails go through salesmail,
// calls and tasks through crm; it must not import web, api or app.
package sequences
