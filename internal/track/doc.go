// Package track owns web tracking: the collect payload and its validation,
// bot filtering, the group-commit collector that stores page views, clicks and
// custom events in the shared event store (platform), 30-minute sessions with
// their channel, identity stitching of anonymous visitors to contacts, the
// tracking settings, and the retention roll-up of visitors who never
// identify. It imports platform and db, never api, web or httpx; the public
// HTTP endpoints live in internal/trackhttp.
package track
