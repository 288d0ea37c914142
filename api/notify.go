package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
)

func (s *Server) notifyRoutes() []Route {
	channels := resource[notify.Channel, channelRequest]{
		list:   s.listChannels,
		get:    getByID(s.svc.Notify.Get),
		create: s.createChannel,
		patch:  updateByID(s.updateChannel),
		delete: deleteByID(s.svc.Notify.Delete),
	}
	return append(channels.routes(s, "/notification-channels", "id", recordReads, recordWrites),
		Route{Method: "GET", Path: "/notification-channels/:id/deliveries", Roles: recordReads, handler: listUnder(s, s.listDeliveries)},
		// A test notification is queued; a replica's deliverer sends it at
		// its next poll, so the answer is 202 with the pending delivery.
		Route{Method: "POST", Path: "/notification-channels/:id/test", Roles: recordWrites,
			handler: actOn(s, http.StatusAccepted, s.svc.Notify.SendTest)},
	)
}

// channelRequest is the body of POST and PATCH. secret is accepted by the
// decoder only to be refused with a message saying what to do instead.
type channelRequest struct {
	Name       *string         `json:"name"`
	Kind       *notify.Kind    `json:"kind"`
	URL        *string         `json:"url"`
	Events     []string        `json:"events"`
	SecretEnv  *string         `json:"secret_env"`
	SecretFile *string         `json:"secret_file"`
	Enabled    *bool           `json:"enabled"`
	Secret     json.RawMessage `json:"secret"`
}

func (r channelRequest) input() (notify.ChannelInput, error) {
	if r.Secret != nil {
		return notify.ChannelInput{}, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "inline secrets are not accepted",
			Fields: []orchestrator.FieldError{{Field: "secret", Message: "is not stored: put the signing secret in an environment " +
				"variable or a file on every replica and name it with secret_env or secret_file"}}}
	}
	return notify.ChannelInput{Name: r.Name, Kind: r.Kind, URL: r.URL, Events: r.Events,
		SecretEnv: r.SecretEnv, SecretFile: r.SecretFile, Enabled: r.Enabled}, nil
}

func (s *Server) listChannels(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[notify.Channel], error) {
	q := newQuery(values)
	f := notify.ChannelFilter{
		Kind:    notify.Kind(q.oneOf("kind", enumStrings(notify.Kinds)...)),
		Enabled: q.boolean("enabled"),
		Event:   notify.EventType(q.oneOf("event", enumStrings(notify.EventTypes)...)),
	}
	if err := q.err(); err != nil {
		return orchestrator.List[notify.Channel]{}, err
	}
	return s.svc.Notify.List(ctx, f, page)
}

func (s *Server) createChannel(ctx context.Context, req channelRequest) (notify.Channel, error) {
	in, err := req.input()
	if err != nil {
		return notify.Channel{}, err
	}
	return s.svc.Notify.Create(ctx, in)
}

// updateChannel changes only the fields the body names.
func (s *Server) updateChannel(ctx context.Context, id int64, req channelRequest) (notify.Channel, error) {
	in, err := req.input()
	if err != nil {
		return notify.Channel{}, err
	}
	return s.svc.Notify.Update(ctx, id, in)
}

// listDeliveries pages through a channel's deliveries, newest first.
func (s *Server) listDeliveries(ctx context.Context, id int64, values url.Values, page orchestrator.Page) (orchestrator.List[notify.Delivery], error) {
	q := newQuery(values)
	f := notify.DeliveryFilter{Status: notify.DeliveryStatus(q.oneOf("status", enumStrings(notify.DeliveryStatuses)...))}
	if err := q.err(); err != nil {
		return orchestrator.List[notify.Delivery]{}, err
	}
	return s.svc.Notify.Deliveries(ctx, id, f, page)
}
