package outbound

import (
	"fmt"
	"net/netip"
	"strings"
)

// AllowSetting is the setting that widens the address policy; refusals
// name it so that whoever reads one knows what to change.
const AllowSetting = "BCDR_OUTBOUND_ALLOW"

// Policy decides which destinations outbound calls may reach. Loopback,
// link-local (cloud metadata included), private, unique-local,
// unspecified and carrier-grade NAT addresses, and their IPv4-mapped
// forms, are refused unless allowed; every other address is reachable.
// The zero Policy allows nothing beyond public addresses.
type Policy struct {
	hosts map[string]bool
	nets  []netip.Prefix
}

// ParsePolicy reads an allowlist: comma-separated host names (allowed
// whatever they resolve to), IP addresses and CIDRs, e.g.
// "127.0.0.1,10.20.0.0/16,backup.internal". Empty entries are skipped.
func ParsePolicy(s string) (Policy, error) {
	p := Policy{hosts: map[string]bool{}}
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if err := p.add(entry); err != nil {
			return Policy{}, fmt.Errorf("%s entry %q: %w", AllowSetting, entry, err)
		}
	}
	return p, nil
}

// add records one allowlist entry.
func (p *Policy) add(entry string) error {
	if strings.Contains(entry, "/") {
		pfx, err := netip.ParsePrefix(entry)
		if err != nil {
			return fmt.Errorf("not a CIDR (like 10.20.0.0/16): %w", err)
		}
		if pfx.Addr().Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		p.nets = append(p.nets, pfx.Masked())
		return nil
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]")); err == nil {
		a = a.Unmap().WithZone("")
		p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
		return nil
	}
	name := normalHost(entry)
	if !isHostName(name) {
		return fmt.Errorf("not a host name, IP address or CIDR (no scheme, port or path)")
	}
	p.hosts[name] = true
	return nil
}

// isHostName reports whether s is a DNS name: dot-separated labels of
// letters, digits, hyphens and underscores, no label starting or ending
// with a hyphen.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// normalHost is a host as the allowlist compares it: lower case, without
// the trailing dot of a fully qualified name.
func normalHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// allowsHost reports whether host (a name or an IP literal, as a URL
// carries it) is allowed outright: listed by name, or an address inside an
// allowed CIDR.
func (p Policy) allowsHost(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return p.allowsAddr(a)
	}
	return p.hosts[normalHost(host)]
}

// allowsAddr reports whether an address lies in an allowed CIDR.
func (p Policy) allowsAddr(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Check judges one connection: addr is the address about to be dialled,
// host the name (or literal) it was asked for. It returns a *DeniedError
// when the policy refuses the address.
func (p Policy) Check(host string, addr netip.Addr) error {
	if p.allowsHost(host) || p.allowsAddr(addr) {
		return nil
	}
	if reason := deniedRange(addr); reason != "" {
		return &DeniedError{Host: host, Addr: addr.Unmap().WithZone(""), Reason: reason}
	}
	return nil
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// thisNetwork is 0.0.0.0/8, which Linux dials as the local host.
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// deniedRange names the range that puts a refused address out of reach
// by default, "" for an address every policy allows.
func deniedRange(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsUnspecified() || thisNetwork.Contains(a):
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsPrivate() && a.Is4():
		return "private"
	case a.IsPrivate():
		return "unique-local"
	case cgnat.Contains(a):
		return "carrier-grade NAT"
	}
	return ""
}

// DeniedError is the refusal of a destination by the address policy.
type DeniedError struct {
	// Host is the name or literal the request asked for.
	Host string
	// Addr is the address it resolved to.
	Addr netip.Addr
	// Reason names the refused range (loopback, link-local, private, ...).
	Reason string
}

func (e *DeniedError) Error() string {
	of := ""
	if e.Host != "" && e.Host != e.Addr.String() {
		of = fmt.Sprintf(" of %q", e.Host)
	}
	return fmt.Sprintf("address %s%s is not allowed for outbound calls (%s); allow it with %s", e.Addr, of, e.Reason, AllowSetting)
}
