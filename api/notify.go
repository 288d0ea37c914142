package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
)

func (s *Server) notifyRoutes() []Route {
	channels := resource[notify.Channel, channelRequest]{
		list:   s.listChannels,
		get:    s.getChannel,
		create: s.createChannel,
		delete: s.deleteChannel,
	}
	return append(channels.routes(s, "/notification-channels", "id", recordReads, recordWrites),
		Route{Method: "PATCH", Path: "/notification-channels/:id", Roles: recordWrites, handler: s.updateChannel},
		Route{Method: "GET", Path: "/notification-channels/:id/deliveries", Roles: recordReads, handler: s.listDeliveries},
		Route{Method: "POST", Path: "/notification-channels/:id/test", Roles: recordWrites, handler: s.testChannel},
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

// channelID reads a channel id from the path.
func channelID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid id",
			Fields: []orchestrator.FieldError{{Field: "id", Message: "must be a positive whole number"}}}
	}
	return id, nil
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
	return s.notify.List(ctx, f, page)
}

func (s *Server) getChannel(ctx context.Context, idText string) (notify.Channel, error) {
	id, err := channelID(idText)
	if err != nil {
		return notify.Channel{}, err
	}
	return s.notify.Get(ctx, id)
}

func (s *Server) createChannel(ctx context.Context, req channelRequest) (notify.Channel, error) {
	in, err := req.input()
	if err != nil {
		return notify.Channel{}, err
	}
	return s.notify.Create(ctx, in)
}

func (s *Server) deleteChannel(ctx context.Context, idText string) error {
	id, err := channelID(idText)
	if err != nil {
		return err
	}
	return s.notify.Delete(ctx, id)
}

// updateChannel changes only the fields the body names.
func (s *Server) updateChannel(c *gin.Context) {
	id, err := channelID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	var req channelRequest
	if err := decodeJSON(c, &req); err != nil {
		s.writeError(c, err)
		return
	}
	in, err := req.input()
	if err != nil {
		s.writeError(c, err)
		return
	}
	respond[notify.Channel](s, c, http.StatusOK)(s.notify.Update(c.Request.Context(), id, in))
}

// listDeliveries pages through a channel's deliveries, newest first.
func (s *Server) listDeliveries(c *gin.Context) {
	id, err := channelID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	values := c.Request.URL.Query()
	values.Del("limit")
	values.Del("after")
	q := newQuery(values)
	f := notify.DeliveryFilter{Status: notify.DeliveryStatus(q.oneOf("status", enumStrings(notify.DeliveryStatuses)...))}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[orchestrator.List[notify.Delivery]](s, c, http.StatusOK)(s.notify.Deliveries(c.Request.Context(), id, f, page))
}

// testChannel queues a test notification for one channel; a replica's
// deliverer sends it at its next poll, so the answer is 202 with the
// pending delivery.
func (s *Server) testChannel(c *gin.Context) {
	id, err := channelID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	respond[notify.Delivery](s, c, http.StatusAccepted)(s.notify.SendTest(c.Request.Context(), id))
}
