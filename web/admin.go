package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/notify"
)

// Who may do what on the administration page: the page is the audit
// readers'; each section and button is for the roles the API gives its
// routes, among those who may open the page.
var (
	adminPageRoles    = orchestrator.AuditRoles
	adminTokenRoles   = within(orchestrator.AdminRoles, adminPageRoles)
	adminChannelReads = within(orchestrator.RecordReaders, adminPageRoles)
	adminChannelTests = within(orchestrator.RecordWriters, adminPageRoles)
)

// within are the roles of roles that are also in page.
func within(roles, page []orchestrator.Role) []orchestrator.Role {
	var out []orchestrator.Role
	for _, r := range roles {
		if r.Allowed(page) {
			out = append(out, r)
		}
	}
	return out
}

// adminPages are administration: tokens, notification channels, the audit log.
func (u *UI) adminPages() []page {
	return []page{
		{"GET /admin", adminPageRoles, u.admin, "admin"},
		{"POST /admin/tokens", adminTokenRoles, u.createToken, ""},
		{"POST /admin/tokens/{id}/revoke", adminTokenRoles, u.revokeToken, ""},
		{"POST /admin/channels/{id}/test", adminChannelTests, u.testChannel, ""},
		{"POST /admin/audit/verify", adminPageRoles, u.verifyAudit, ""},
	}
}

// Lengths of the administration page's lists: the API pages further.
const (
	adminTokensShown   = 200
	adminChannelsShown = 200
	adminAuditShown    = 50
)

// adminView is the administration page: the sections the actor may see
// and the outcome of what was just done.
type adminView struct {
	ShowTokens, ShowChannels, CanTest bool
	Tokens                            []auth.Token
	Roles                             []orchestrator.Role
	Channels                          []notify.Channel
	Audit                             []audit.Entry
	// NewToken is the secret of the token just created, shown on this
	// answer only.
	NewToken     string
	NewTokenName string
	Delivery     *notify.Delivery
	Verification *audit.Verification
	Notice       string
	Error        string
}

// admin shows the sections of the administration page the actor may see.
func (u *UI) admin(w http.ResponseWriter, r *http.Request) {
	v := adminView{}
	if r.URL.Query().Get("done") == "revoked" {
		v.Notice = "admin_token_revoked_done"
	}
	u.adminPage(w, r, http.StatusOK, v)
}

// adminPage fills the sections the actor may see into v and draws it.
func (u *UI) adminPage(w http.ResponseWriter, r *http.Request, status int, v adminView) {
	if err := u.fillAdmin(r.Context(), &v); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, status, "admin", v)
}

func (u *UI) fillAdmin(ctx context.Context, v *adminView) error {
	role := actor(ctx).Role
	v.ShowTokens, v.ShowChannels, v.CanTest = role.Allowed(adminTokenRoles), role.Allowed(adminChannelReads), role.Allowed(adminChannelTests)
	if v.ShowTokens {
		l, err := u.svc.Tokens.List(ctx, true, orchestrator.Page{Limit: adminTokensShown})
		if err != nil {
			return err
		}
		v.Tokens, v.Roles = l.Items, orchestrator.Roles
	}
	if v.ShowChannels {
		l, err := u.svc.Notify.List(ctx, notify.ChannelFilter{}, orchestrator.Page{Limit: adminChannelsShown})
		if err != nil {
			return err
		}
		v.Channels = l.Items
	}
	l, err := audit.List(ctx, u.svc.Pool, audit.Filter{}, orchestrator.Page{Limit: adminAuditShown})
	if err != nil {
		return err
	}
	v.Audit = l.Items
	return nil
}

// createToken makes a token and shows its secret on this answer only: it
// is never put in a URL or logged, and cannot be shown again.
func (u *UI) createToken(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := orchestrator.Role(r.PostFormValue("role"))
	tok, secret, err := u.svc.Tokens.Create(r.Context(), name, role)
	if code, refused := refusal(err); refused {
		u.adminPage(w, r, refusedStatus(w, r, code), adminView{Error: err.Error()})
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	w.Header().Set("HX-Push-Url", "false")
	u.adminPage(w, r, http.StatusOK, adminView{NewToken: secret, NewTokenName: tok.Name})
}

// revokeToken disables a token at once.
func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	if err := u.svc.Tokens.Revoke(r.Context(), id); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin?done=revoked", http.StatusSeeOther)
}

// testChannel queues a test notification, as the API's test does, and
// shows the delivery as it stands: pending until a replica sends it.
func (u *UI) testChannel(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	d, err := u.svc.Notify.SendTest(r.Context(), id)
	if code, refused := refusal(err); refused {
		u.adminPage(w, r, refusedStatus(w, r, code), adminView{Error: err.Error()})
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	w.Header().Set("HX-Push-Url", "false")
	u.adminPage(w, r, http.StatusOK, adminView{Delivery: &d})
}

// verifyAudit recomputes the audit chain as `bcdr audit verify` and the
// API do, with the audit key of the request's context; a chain that cannot
// be checked (keyed rows and no key) is said so in place.
func (u *UI) verifyAudit(w http.ResponseWriter, r *http.Request) {
	res, err := audit.Verify(r.Context(), u.svc.Pool)
	if code, refused := refusal(err); refused {
		u.adminPage(w, r, refusedStatus(w, r, code), adminView{Error: err.Error()})
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	w.Header().Set("HX-Push-Url", "false")
	u.adminPage(w, r, http.StatusOK, adminView{Verification: &res})
}

// adminWords are the words of these pages.
var adminWords = map[string]map[string]string{
	langEN: {
		"admin": "Administration", "admin_title": "Administration",
		"admin_tokens": "API tokens", "admin_token_name": "Name", "admin_token_role": "Role", "admin_token_prefix": "Prefix",
		"admin_token_created": "Created", "admin_token_last_used": "Last used", "admin_token_revoked": "Revoked",
		"admin_token_active": "active", "admin_token_never": "never", "admin_token_revoke": "Revoke",
		"admin_token_confirm_revoke": "Revoke this token? Whoever uses it is signed out at once.",
		"admin_token_create":         "Create a token", "admin_token_created_title": "New token",
		"admin_token_once":         "Copy this token now: it is not shown again, and cannot be recovered.",
		"admin_token_revoked_done": "The token was revoked.", "admin_no_tokens": "No token.",
		"admin_role_admin": "Administrator", "admin_role_continuity_manager": "Continuity manager", "admin_role_operator": "Operator",
		"admin_role_executive": "Executive", "admin_role_auditor": "Auditor",
		"admin_channels": "Notification channels", "admin_channel_name": "Name", "admin_channel_kind": "Kind",
		"admin_channel_url": "Address (redacted)", "admin_channel_events": "Events", "admin_channel_enabled": "Enabled",
		"admin_yes": "yes", "admin_no": "no", "admin_all_events": "all", "admin_channel_test": "Send a test",
		"admin_no_channels": "No notification channel.", "admin_delivery": "Test notification",
		"admin_delivery_help":   "Queued as delivery %d; a replica sends it at its next poll.",
		"admin_delivery_status": "Status", "admin_delivery_attempts": "Attempts", "admin_delivery_error": "Last error",
		"admin_audit": "Audit log", "admin_audit_help": "The newest 50 entries.", "admin_audit_at": "Time",
		"admin_audit_actor": "Actor", "admin_audit_action": "Action", "admin_audit_resource": "Resource",
		"admin_audit_summary": "Summary", "admin_no_audit": "No entry.", "admin_audit_verify": "Verify the chain",
		"admin_audit_intact": "The chain is intact: %d entries checked, %d keyed.",
		"admin_audit_broken": "The chain is broken at entry %d:", "admin_refused": "Not done:",
	},
	langZH: {
		"admin": "系统管理", "admin_title": "系统管理",
		"admin_tokens": "API 令牌", "admin_token_name": "名称", "admin_token_role": "角色", "admin_token_prefix": "前缀",
		"admin_token_created": "创建时间", "admin_token_last_used": "最近使用", "admin_token_revoked": "已吊销",
		"admin_token_active": "有效", "admin_token_never": "从未", "admin_token_revoke": "吊销",
		"admin_token_confirm_revoke": "吊销此令牌？使用它的人将立即退出登录。",
		"admin_token_create":         "创建令牌", "admin_token_created_title": "新令牌",
		"admin_token_once":         "请立即复制此令牌：它不会再次显示，也无法找回。",
		"admin_token_revoked_done": "令牌已吊销。", "admin_no_tokens": "没有令牌。",
		"admin_role_admin": "管理员", "admin_role_continuity_manager": "连续性经理", "admin_role_operator": "操作员",
		"admin_role_executive": "管理层", "admin_role_auditor": "审计员",
		"admin_channels": "通知渠道", "admin_channel_name": "名称", "admin_channel_kind": "类型",
		"admin_channel_url": "地址（已脱敏）", "admin_channel_events": "事件", "admin_channel_enabled": "启用",
		"admin_yes": "是", "admin_no": "否", "admin_all_events": "全部", "admin_channel_test": "发送测试",
		"admin_no_channels": "没有通知渠道。", "admin_delivery": "测试通知",
		"admin_delivery_help":   "已排队为投递 %d；副本将在下次轮询时发送。",
		"admin_delivery_status": "状态", "admin_delivery_attempts": "尝试次数", "admin_delivery_error": "最近错误",
		"admin_audit": "审计日志", "admin_audit_help": "最新 50 条记录。", "admin_audit_at": "时间",
		"admin_audit_actor": "操作人", "admin_audit_action": "操作", "admin_audit_resource": "对象",
		"admin_audit_summary": "摘要", "admin_no_audit": "没有记录。", "admin_audit_verify": "校验哈希链",
		"admin_audit_intact": "哈希链完整：已校验 %d 条记录，其中 %d 条带密钥。",
		"admin_audit_broken": "哈希链在第 %d 条记录处断裂：", "admin_refused": "未执行：",
	},
}
