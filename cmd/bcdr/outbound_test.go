package main

import (
	"flag"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// BCDR_OUTBOUND_ALLOW is read into the address policy the services get; an
// entry that is no host, address or CIDR is refused with its name.
func TestOutboundAllowSetting(t *testing.T) {
	t.Parallel()
	read := func(allow string) (*config, error) {
		cfg, err := parseConfig(map[string]string{"BCDR_DATA_DIR": t.TempDir(), "BCDR_OUTBOUND_ALLOW": allow},
			flag.NewFlagSet("test", flag.ContinueOnError))
		require.NoError(t, err)
		return cfg, cfg.check()
	}
	cfg, err := read("")
	require.NoError(t, err)
	require.ErrorContains(t, cfg.outbound().Check("metadata", netip.MustParseAddr("169.254.169.254")), "(link-local)")

	cfg, err = read("127.0.0.1, 10.20.0.0/16,backup.internal")
	require.NoError(t, err)
	require.NoError(t, cfg.outbound().Check("localhost", netip.MustParseAddr("127.0.0.1")))
	require.NoError(t, cfg.outbound().Check("backup.internal", netip.MustParseAddr("192.168.9.9")))
	require.Error(t, cfg.outbound().Check("db.internal", netip.MustParseAddr("10.21.0.1")))

	_, err = read("127.0.0.1,https://backup.internal")
	require.ErrorContains(t, err, `invalid configuration: BCDR_OUTBOUND_ALLOW entry "https://backup.internal"`)
}
