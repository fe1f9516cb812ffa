package resources

import (
	"context"
	"sync"

	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Bounds on subscription state.
const (
	maxWatches       = 1000
	maxSubscriptions = 10000
)

// subscription is one client's interest in one URI: a 2025-11-25 session
// (until it unsubscribes or goes away) or a 2026-07-28 listen stream (until
// its request ends).
type subscription struct {
	session server.ClientSession
	uri     string
	watch   *watch
}

// watch polls one call for one key while anyone is subscribed to it.
type watch struct {
	key    string
	callID string
	subs   map[*subscription]struct{}
	cancel context.CancelFunc
}

type watchKey struct{ keyFP, callID string }

// watcher is the registry of who subscribed to what. Updates go only to the
// subscribers of a call, under the key they subscribed with; nothing is
// broadcast.
type watcher struct {
	r       *Resources
	mu      sync.Mutex
	watches map[watchKey]*watch
	total   int
}

func newWatcher(r *Resources) *watcher {
	return &watcher{r: r, watches: map[watchKey]*watch{}}
}

// Count returns the number of watched calls and subscriptions (for tests).
func (r *Resources) Count() (watches, subscriptions int) {
	r.watches.mu.Lock()
	defer r.watches.mu.Unlock()
	return len(r.watches.watches), r.watches.total
}

func (w *watcher) add(ctx context.Context, session server.ClientSession, uri string) *subscription {
	callID, _, ok := ParseURI(uri)
	if !ok {
		callID, ok = ParseRecordingURI(uri)
	}
	campaignID, _, isCampaign := ParseCampaignURI(uri)
	if isCampaign && w.r.deps.Campaigns != nil {
		callID, ok = "campaign:"+campaignID, true // watched apart from any call
	}
	if !ok || session == nil {
		return nil
	}
	key := w.r.key(ctx)
	if key == "" {
		return nil
	}
	wk := watchKey{safety.KeyFingerprint(key), callID}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.total >= maxSubscriptions {
		return nil
	}
	wt, ok := w.watches[wk]
	if !ok {
		if len(w.watches) >= maxWatches {
			return nil
		}
		pctx, cancel := context.WithCancel(context.Background())
		wt = &watch{key: key, callID: callID, subs: map[*subscription]struct{}{}, cancel: cancel}
		w.watches[wk] = wt
		if isCampaign {
			go w.pollCampaign(pctx, wk, wt, campaignID)
		} else {
			go w.poll(pctx, wk, wt)
		}
	}
	for s := range wt.subs {
		if s.session.SessionID() == session.SessionID() && s.session == session && s.uri == uri {
			return s
		}
	}
	s := &subscription{session: session, uri: uri, watch: wt}
	wt.subs[s] = struct{}{}
	w.total++
	return s
}

// remove drops the subscriptions that match; a watch left without
// subscribers stops polling.
func (w *watcher) remove(match func(*subscription) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for wk, wt := range w.watches {
		for s := range wt.subs {
			if match(s) {
				delete(wt.subs, s)
				w.total--
			}
		}
		if len(wt.subs) == 0 {
			wt.cancel()
			delete(w.watches, wk)
		}
	}
}

func (w *watcher) subscribeLegacy(ctx context.Context, _ any, msg *mcp.SubscribeRequest, _ *mcp.EmptyResult) {
	w.add(ctx, server.ClientSessionFromContext(ctx), msg.Params.URI)
}

func (w *watcher) unsubscribeLegacy(ctx context.Context, _ any, msg *mcp.UnsubscribeRequest, _ *mcp.EmptyResult) {
	session := server.ClientSessionFromContext(ctx)
	if session == nil {
		return
	}
	id := session.SessionID()
	w.remove(func(s *subscription) bool { return s.session.SessionID() == id && s.uri == msg.Params.URI })
}

func (w *watcher) sessionGone(_ context.Context, session server.ClientSession) {
	id := session.SessionID()
	w.remove(func(s *subscription) bool { return s.session == session || (id != "" && s.session.SessionID() == id) })
}

// listen registers the resource URIs of a 2026-07-28 subscriptions/listen
// stream for as long as its request lasts.
func (w *watcher) listen(ctx context.Context, _ any, msg *mcp.SubscriptionsListenRequest) {
	session := server.ClientSessionFromContext(ctx)
	var mine []*subscription
	for _, uri := range msg.Params.Notifications.ResourceSubscriptions {
		if s := w.add(ctx, session, uri); s != nil {
			mine = append(mine, s)
		}
	}
	if len(mine) == 0 {
		return
	}
	go func() {
		<-ctx.Done()
		set := make(map[*subscription]bool, len(mine))
		for _, s := range mine {
			set[s] = true
		}
		w.remove(func(s *subscription) bool { return set[s] })
	}()
}

// poll follows one call through the shared follower (the same stream of
// requests as any wait on it) and tells its subscribers when the status
// changes; it stops when the call is terminal, the API refuses for good, or
// the last subscriber leaves.
func (w *watcher) poll(ctx context.Context, wk watchKey, wt *watch) {
	c, err := w.r.clientForKey(wt.key)
	if err != nil {
		return
	}
	sub := w.r.deps.Follow.Follow(wk.keyFP, c, wt.callID)
	defer sub.Close()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.C():
		}
		u := sub.Latest()
		if u.Err == nil && u.Call != nil {
			if last != "" && u.Call.Status != last {
				w.notify(wt)
			}
			last = u.Call.Status
		}
		if u.Final {
			w.finish(wk, wt)
			return
		}
	}
}

// finish ends a watch whose call can change no more.
func (w *watcher) finish(wk watchKey, wt *watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cur, ok := w.watches[wk]; ok && cur == wt {
		w.total -= len(wt.subs)
		delete(w.watches, wk)
	}
	wt.cancel()
}

func (w *watcher) notify(wt *watch) {
	w.mu.Lock()
	subs := make([]*subscription, 0, len(wt.subs))
	for s := range wt.subs {
		subs = append(subs, s)
	}
	w.mu.Unlock()
	for _, s := range subs {
		n := mcp.JSONRPCNotification{
			JSONRPC: mcp.JSONRPC_VERSION,
			Notification: mcp.Notification{
				Method: string(mcp.MethodNotificationResourceUpdated),
				Params: mcp.NotificationParams{AdditionalFields: map[string]any{"uri": s.uri}},
			},
		}
		select {
		case s.session.NotificationChannel() <- n:
		default:
			w.r.deps.Log.WithField("uri", s.uri).Warn("dropped a resource update: the client's notification queue is full")
		}
	}
}
