package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ryorin/ryorin/internal/clock"
	"github.com/ryorin/ryorin/internal/crm"
	"github.com/ryorin/ryorin/internal/db"
	"github.com/ryorin/ryorin/internal/dbtest"
	"github.com/ryorin/ryorin/internal/errs"
	"github.com/ryorin/ryorin/internal/platform"
	"github.com/ryorin/ryorin/internal/webhooks"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// receiver records signed deliveries; it fails while failing is set.
type receiver struct {
	mu      sync.Mutex
	secret  string
	got     []map[string]any
	ids     []string
	failing bool
	badSig  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	ts, _ := strconv.ParseInt(req.Header.Get("X-Ryorin-Timestamp"), 10, 64)
	if req.Header.Get("X-Ryorin-Signature") != webhooks.Sign(r.secret, ts, body) {
		r.badSig++
	}
	if r.failing {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	r.got = append(r.got, m)
	r.ids = append(r.ids, req.Header.Get("X-Ryorin-Delivery"))
}

func TestWebhooks_RecordChangesAreSignedRetriedAndReplayable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		cs := crm.New(d, fc)
		jobs := platform.NewJobs(d, fc, nil)
		svc := &webhooks.Service{DB: d, Clock: fc, Jobs: jobs}
		jobs.Handle(webhooks.DeliverKind, svc.Deliver)
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		rep := platform.Actor{WorkspaceID: 1, Role: platform.RoleSales, Kind: platform.ActorUser}
		rcv := &receiver{}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		if _, err := svc.CreateSubscription(ctx, rep, webhooks.Subscription{URL: srv.URL, EventTypes: []string{"contact.created"}}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a rep subscribed: %v", err)
		}
		for _, bad := range []webhooks.Subscription{{URL: "ftp://x", EventTypes: []string{"contact.created"}}, {URL: srv.URL, EventTypes: []string{"contact.exploded"}}, {URL: srv.URL}} {
			if _, err := svc.CreateSubscription(ctx, admin, bad); !errs.Is(err, errs.Invalid) {
				t.Errorf("bad subscription %+v: %v", bad, err)
			}
		}
		if _, err := svc.Dispatch(ctx, 1); err != nil { // first run: marks start here
			t.Fatal(err)
		}
		sub, err := svc.CreateSubscription(ctx, admin, webhooks.Subscription{URL: srv.URL, EventTypes: []string{"contact.created", "contact.updated", "lifecycle.changed"}})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secret = sub.Secret
		c, err := cs.CreateContact(ctx, platform.System(1), crm.ContactInput{Email: new("hook@example.jp")})
		if err != nil {
			t.Fatal(err)
		}
		mql := platform.StageMQL
		if _, err := cs.UpdateContact(ctx, platform.System(1), c.ID, crm.ContactInput{LifecycleStage: &mql}, platform.Cause{Kind: "rule"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.CreateCompany(ctx, platform.System(1), crm.CompanyInput{Name: new("対象外株式会社")}); err != nil {
			t.Fatal(err)
		}
		// Within the lag nothing goes out; after it, four deliveries: created,
		// its first stage, updated, the move to MQL. The company is not asked for.
		if n, _ := svc.Dispatch(ctx, 1); n != 0 {
			t.Fatalf("dispatched %d inside the lag", n)
		}
		fc.Advance(3 * time.Second)
		if n, err := svc.Dispatch(ctx, 1); err != nil || n != 4 {
			t.Fatalf("dispatched %d, %v", n, err)
		}
		if n, _ := svc.Dispatch(ctx, 1); n != 0 {
			t.Fatalf("dispatched %d again", n)
		}
		// The endpoint is down: attempts are recorded and retried later.
		rcv.failing = true
		if _, err := jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		ds, _ := svc.Deliveries(ctx, d.Reader(), 1, sub.ID, 10)
		if len(ds) != 4 || ds[0].Status != "pending" || ds[0].StatusCode != 500 || ds[0].Attempts != 1 {
			t.Fatalf("after a 500: %+v", ds)
		}
		rcv.mu.Lock()
		rcv.failing = false
		rcv.mu.Unlock()
		fc.Advance(time.Hour)
		if _, err := jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		ds, _ = svc.Deliveries(ctx, d.Reader(), 1, sub.ID, 10)
		for _, x := range ds {
			if x.Status != "succeeded" || x.StatusCode != 200 || x.DeliveredAt == nil {
				t.Fatalf("after the retry: %+v", x)
			}
		}
		types := map[string]bool{}
		for _, m := range rcv.got {
			types[m["type"].(string)] = true
		}
		if len(rcv.got) != 4 || !types["contact.created"] || !types["contact.updated"] || !types["lifecycle.changed"] || rcv.badSig != 0 {
			t.Fatalf("received %d (%v), bad signatures %d", len(rcv.got), types, rcv.badSig)
		}
		// Replay sends the same event again under a new delivery id.
		nid, err := svc.Replay(ctx, admin, ds[0].ID)
		if err != nil || nid == 0 {
			t.Fatalf("replay: %d %v", nid, err)
		}
		if _, err := jobs.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rcv.got) != 5 || rcv.ids[4] == ds[0].EventUID || rcv.got[4]["id"] != ds[0].EventUID {
			t.Fatalf("replayed: %d deliveries, ids %v", len(rcv.got), rcv.ids)
		}
	})
}

func TestWebhooks_QuoteIssuedIsAnEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		fc := clock.NewFake(t0)
		if err := platform.EnsureWorkspace(ctx, d, 1, "T", t0); err != nil {
			t.Fatal(err)
		}
		svc := &webhooks.Service{DB: d, Clock: fc, Jobs: platform.NewJobs(d, fc, nil)}
		admin := platform.Actor{WorkspaceID: 1, Role: platform.RoleAdmin, Kind: platform.ActorCLI}
		if _, err := svc.Dispatch(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateSubscription(ctx, admin, webhooks.Subscription{URL: "https://example.com/hook", EventTypes: []string{"quote.issued"}}); err != nil {
			t.Fatal(err)
		}
		if err := d.Write(ctx, "test", func(tx *db.Tx) error {
			_, err := platform.AppendTimeline(ctx, tx, admin, platform.TimelineEntry{At: t0, Kind: "quote.issued"}, map[string]any{"number": "Q-000001", "version": 1})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		fc.Advance(3 * time.Second)
		if n, err := svc.Dispatch(ctx, 1); err != nil || n != 1 {
			t.Fatalf("dispatched %d, %v", n, err)
		}
	})
}
