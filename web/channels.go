package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
)

// Who may do what with notification channels: the roles of the API's
// /notification-channels routes.
var (
	channelReadRoles  = orchestrator.RecordReaders
	channelWriteRoles = within(orchestrator.RecordWriters, channelReadRoles)
)

// channelPages list, create, edit, delete and test notification channels.
func (u *UI) channelPages() []page {
	return []page{
		{"GET /channels", channelReadRoles, u.channels, "channels"},
		{"POST /channels", channelWriteRoles, u.createChannel, ""},
		{"GET /channels/{id}", channelReadRoles, u.channel, ""},
		{"POST /channels/{id}", channelWriteRoles, u.updateChannel, ""},
		{"POST /channels/{id}/delete", channelWriteRoles, u.deleteChannel, ""},
		{"POST /channels/{id}/test", channelWriteRoles, u.sendChannelTest, ""},
	}
}

// Lengths of the channel pages' lists: the API pages further.
const (
	channelsShown   = 200
	deliveriesShown = 10
)

// channelsView is the channel list, or one channel, and the form to make
// or change one.
type channelsView struct {
	CanWrite bool
	Channels []notify.Channel
	// Channel is the channel of its own page; nil on the list.
	Channel    *notify.Channel
	Deliveries []notify.Delivery
	Form       channelForm
	Kinds      []notify.Kind
	Events     []notify.EventType
	Delivery   *notify.Delivery
	Problems   []orchestrator.FieldError
	Error      string
	Notice     string
}

// channelForm is what the form shows: never a secret reference, and the
// address only as the person typed it (a stored one is a credential and
// is shown redacted beside the field).
type channelForm struct {
	Name, Kind, URL string
	Events          []string
	Enabled         bool
}

// Subscribed reports whether the form subscribes to event e.
func (f channelForm) Subscribed(e string) bool { return slices.Contains(f.Events, e) }

// FieldProblems are the problems of form field field (secret_env and
// secret_file are the form's secret).
func (v channelsView) FieldProblems(field string) []orchestrator.FieldError {
	var out []orchestrator.FieldError
	for _, p := range v.Problems {
		f := p.Field
		if f == "secret_env" || f == "secret_file" {
			f = "secret"
		}
		if f == field {
			out = append(out, p)
		}
	}
	return out
}

func (u *UI) channels(w http.ResponseWriter, r *http.Request) {
	v := channelsView{Form: channelForm{Kind: string(notify.KindWebhook), Events: []string{notify.AllEvents}, Enabled: true}}
	if r.URL.Query().Get("done") == "deleted" {
		v.Notice = "channel_deleted"
	}
	u.channelsPage(w, r, http.StatusOK, v)
}

// channelsPage fills the list into v and draws it.
func (u *UI) channelsPage(w http.ResponseWriter, r *http.Request, status int, v channelsView) {
	ctx := r.Context()
	u.fillChannelChoices(ctx, &v)
	l, err := u.svc.Notify.List(ctx, notify.ChannelFilter{}, orchestrator.Page{Limit: channelsShown})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v.Channels = l.Items
	u.render(w, r, status, "channels", v)
}

func (u *UI) fillChannelChoices(ctx context.Context, v *channelsView) {
	v.CanWrite = actor(ctx).Role.Allowed(channelWriteRoles)
	v.Kinds, v.Events = notify.Kinds, notify.EventTypes
}

// channel shows one channel, its recent deliveries (a refused address or
// a receiver's error is there) and, to writers, the form to change it.
func (u *UI) channel(w http.ResponseWriter, r *http.Request) {
	v := channelsView{}
	switch r.URL.Query().Get("done") {
	case "created":
		v.Notice = "channel_created"
	case "saved":
		v.Notice = "channel_saved"
	}
	u.channelPage(w, r, http.StatusOK, v, true)
}

// channelPage draws channel {id} with v; fresh fills the form from the
// stored channel rather than from what was just refused.
func (u *UI) channelPage(w http.ResponseWriter, r *http.Request, status int, v channelsView, fresh bool) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	ctx := r.Context()
	ch, err := u.svc.Notify.Get(ctx, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	ds, err := u.svc.Notify.Deliveries(ctx, id, notify.DeliveryFilter{}, orchestrator.Page{Limit: deliveriesShown})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.fillChannelChoices(ctx, &v)
	v.Channel, v.Deliveries = &ch, ds.Items
	if fresh {
		v.Form = channelForm{Name: ch.Name, Kind: string(ch.Kind), Events: ch.Events, Enabled: ch.Enabled}
	}
	u.render(w, r, status, "channels", v)
}

// channelInput reads the form. An empty address or secret keeps what is
// stored (on a change); remove_secret clears the secret reference.
func channelInput(r *http.Request) (notify.ChannelInput, channelForm, error) {
	if err := r.ParseForm(); err != nil {
		return notify.ChannelInput{}, channelForm{}, orchestrator.Invalid("form", "cannot be read")
	}
	f := channelForm{Name: r.PostFormValue("name"), Kind: r.PostFormValue("kind"), URL: strings.TrimSpace(r.PostFormValue("url")),
		Events: r.PostForm["events"], Enabled: r.PostFormValue("enabled") == "on"}
	kind := notify.Kind(f.Kind)
	in := notify.ChannelInput{Name: &f.Name, Kind: &kind, Events: f.Events, Enabled: &f.Enabled}
	if in.Events == nil {
		in.Events = []string{}
	}
	if f.URL != "" {
		in.URL = &f.URL
	}
	secret := strings.TrimSpace(r.PostFormValue("secret"))
	none := ""
	switch {
	case r.PostFormValue("remove_secret") == "on":
		in.SecretEnv, in.SecretFile = &none, &none
	case secret == "":
	case strings.HasPrefix(secret, "env:"):
		name := strings.TrimSpace(strings.TrimPrefix(secret, "env:"))
		in.SecretEnv, in.SecretFile = &name, &none
	case strings.HasPrefix(secret, "file:"):
		path := strings.TrimSpace(strings.TrimPrefix(secret, "file:"))
		in.SecretFile, in.SecretEnv = &path, &none
	default:
		return in, f, orchestrator.Invalid("secret", "must be a reference: env:NAME for an environment variable or file:/path for a file under the secrets directory; the secret itself is never entered here")
	}
	return in, f, nil
}

// hideReferences keeps the secret reference just typed out of the
// messages the page shows: a reference is never displayed back.
func hideReferences(err error, in notify.ChannelInput) error {
	var e *orchestrator.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Fields = slices.Clone(e.Fields)
	for i, f := range out.Fields {
		for _, ref := range []*string{in.SecretEnv, in.SecretFile} {
			if ref != nil && *ref != "" {
				f.Message = strings.ReplaceAll(f.Message, *ref, "…")
			}
		}
		out.Fields[i] = f
	}
	return &out
}

// refuseChannel answers a refused form with the reasons by field, or fails
// when err is not a refusal.
func (u *UI) refuseChannel(w http.ResponseWriter, r *http.Request, err error, v channelsView, onList bool) {
	code, refused := refusal(err)
	if !refused {
		u.fail(w, r, err)
		return
	}
	if v.Problems = orchestrator.ErrorFields(err); len(v.Problems) == 0 {
		v.Error = err.Error()
	}
	status := refusedStatus(w, r, code)
	if onList {
		u.channelsPage(w, r, status, v)
		return
	}
	u.channelPage(w, r, status, v, false)
}

// createChannel makes a channel as POST /notification-channels does.
func (u *UI) createChannel(w http.ResponseWriter, r *http.Request) {
	in, f, err := channelInput(r)
	if err == nil {
		var ch notify.Channel
		if ch, err = u.svc.Notify.Create(r.Context(), in); err == nil {
			http.Redirect(w, r, "/channels/"+strconv.FormatInt(ch.ID, 10)+"?done=created", http.StatusSeeOther)
			return
		}
	}
	u.refuseChannel(w, r, hideReferences(err, in), channelsView{Form: f}, true)
}

// updateChannel changes a channel as PATCH /notification-channels/{id}
// does.
func (u *UI) updateChannel(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	in, f, err := channelInput(r)
	if err == nil {
		if _, err = u.svc.Notify.Update(r.Context(), id, in); err == nil {
			http.Redirect(w, r, "/channels/"+strconv.FormatInt(id, 10)+"?done=saved", http.StatusSeeOther)
			return
		}
	}
	u.refuseChannel(w, r, hideReferences(err, in), channelsView{Form: f}, false)
}

// deleteChannel removes a channel and its outbox.
func (u *UI) deleteChannel(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	if err := u.svc.Notify.Delete(r.Context(), id); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/channels?done=deleted", http.StatusSeeOther)
}

// sendChannelTest queues a test notification and shows the delivery as it
// stands: pending until a replica sends it (an address the outbound
// policy refuses is reported in its last error then).
func (u *UI) sendChannelTest(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	d, err := u.svc.Notify.SendTest(r.Context(), id)
	if err != nil {
		u.refuseChannel(w, r, err, channelsView{}, false)
		return
	}
	w.Header().Set("HX-Push-Url", "false")
	u.channelPage(w, r, http.StatusOK, channelsView{Delivery: &d}, true)
}

// channelWords are the words of the channel pages (part of settingsWords).
var channelWords = map[string]map[string]string{
	langEN: {
		"channels":             "Notification channels",
		"channels_help":        "Where bcdr sends events: a webhook, Slack, Microsoft Teams or email. Addresses are shown redacted: a chat webhook's address is a credential.",
		"channel_signed":       "Signed",
		"channel_signed_yes":   "yes, with a secret held by the server",
		"channel_kind_webhook": "Webhook (JSON)", "channel_kind_slack": "Slack", "channel_kind_teams": "Microsoft Teams", "channel_kind_email": "Email",
		"channel_manage":          "Create, change or delete channels",
		"channel_new":             "New channel",
		"channel_create":          "Create the channel",
		"channel_created":         "The channel was created.",
		"channel_edit":            "Change the channel",
		"channel_save":            "Save the channel",
		"channel_saved":           "The channel was saved.",
		"channel_delete":          "Delete the channel",
		"channel_confirm_delete":  "Delete this channel? Notifications waiting to be sent to it are dropped.",
		"channel_deleted":         "The channel was deleted.",
		"channel_url":             "Address",
		"channel_url_help":        "A webhook's https:// URL, or for email mailto:ops@example.com,oncall@example.com. Which hosts may be reached is the server's outbound address policy: a refused address shows in the deliveries below.",
		"channel_url_keep":        "Leave empty to keep the current address (shown redacted above).",
		"channel_all_events":      "All events (*)",
		"channel_events_help":     "The events the channel receives; all events includes those added later.",
		"channel_secret":          "Signing secret reference",
		"channel_secret_help":     "A reference, never the secret: env:NAME names an environment variable (BCDR_SECRET_…), file:/path a file in the secrets directory. Email channels are not signed.",
		"channel_secret_keep":     "Leave empty to keep the current one; it is never shown.",
		"channel_remove_secret":   "Stop signing (remove the secret reference)",
		"channel_deliveries":      "Recent deliveries",
		"channel_deliveries_help": "The newest 10, with the last error of each: a refused address or a receiver's answer.",
		"channel_no_deliveries":   "Nothing sent yet.",
	},
	langZH: {
		"channels":             "通知渠道",
		"channels_help":        "bcdr 发送事件的去处：Webhook、Slack、Microsoft Teams 或电子邮件。地址以脱敏形式显示：聊天 Webhook 的地址本身就是凭据。",
		"channel_signed":       "签名",
		"channel_signed_yes":   "是，密钥由服务器保管",
		"channel_kind_webhook": "Webhook（JSON）", "channel_kind_slack": "Slack", "channel_kind_teams": "Microsoft Teams", "channel_kind_email": "电子邮件",
		"channel_manage":          "新建、修改或删除通知渠道",
		"channel_new":             "新建通知渠道",
		"channel_create":          "创建通知渠道",
		"channel_created":         "通知渠道已创建。",
		"channel_edit":            "修改通知渠道",
		"channel_save":            "保存通知渠道",
		"channel_saved":           "通知渠道已保存。",
		"channel_delete":          "删除通知渠道",
		"channel_confirm_delete":  "删除此通知渠道？等待发送给它的通知将被丢弃。",
		"channel_deleted":         "通知渠道已删除。",
		"channel_url":             "地址",
		"channel_url_help":        "Webhook 的 https:// 地址；电子邮件填写 mailto:ops@example.com,oncall@example.com。可访问哪些主机由服务器的出站地址策略决定：被拒绝的地址会显示在下方的投递记录中。",
		"channel_url_keep":        "留空则保留当前地址（上方以脱敏形式显示）。",
		"channel_all_events":      "全部事件（*）",
		"channel_events_help":     "该渠道接收的事件；“全部事件”包括今后新增的事件。",
		"channel_secret":          "签名密钥引用",
		"channel_secret_help":     "填写引用，而非密钥本身：env:NAME 指环境变量（BCDR_SECRET_…），file:/路径 指密钥目录中的文件。电子邮件渠道不签名。",
		"channel_secret_keep":     "留空则保留当前引用；引用从不显示。",
		"channel_remove_secret":   "停止签名（删除密钥引用）",
		"channel_deliveries":      "最近投递",
		"channel_deliveries_help": "最新 10 条及各自的最近错误：被拒绝的地址或接收方的答复。",
		"channel_no_deliveries":   "尚未发送。",
	},
}
