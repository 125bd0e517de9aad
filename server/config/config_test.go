package config

import (
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestFromEnv(t *testing.T) {
	c, err := Default().FromEnv(env(map[string]string{
		"ORION_HOME": "/h", "ORION_SERVER_HOST": "0.0.0.0", "ORION_SERVER_PORT": "4300", "ORION_LOG_FORMAT": "json",
		"ORION_LEASE_DURATION": "30s", "ORION_LOG_LINES_PER_SECOND": "50",
		"ORION_SCHEDULER_MIN_RUNS": "5", "ORION_SCHEDULER_MAX_RUNS": "20",
		"ORION_SCHEDULER_MIN_SCHEDULED_TIME": "2h", "ORION_SCHEDULER_MAX_SCHEDULED_TIME": "240h", "ORION_SCHEDULER_LOOP_INTERVAL": "30s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Home != "/h" || c.Host != "0.0.0.0" || c.Port != 4300 || !c.LogJSON || c.LeaseDuration != 30*time.Second || c.LogLinesPerSecond != 50 ||
		c.SchedulerMinRuns != 5 || c.SchedulerMaxRuns != 20 || c.SchedulerMinTime != 2*time.Hour || c.SchedulerMaxTime != 240*time.Hour || c.SchedulerLoopInterval != 30*time.Second {
		t.Fatalf("FromEnv: %+v", c)
	}
	if err := c.Validate(); err != nil || c.DBPath != "/h/orion.db" || c.IsLoopback() {
		t.Fatalf("Validate: %v, DBPath %q, loopback %v", err, c.DBPath, c.IsLoopback())
	}
	for key, val := range map[string]string{
		"ORION_SERVER_PORT": "http", "ORION_LEASE_DURATION": "-1s", "ORION_SCHEDULER_MAX_RUNS": "many", "ORION_LOG_LINES_PER_SECOND": "-2",
	} {
		if _, err := Default().FromEnv(env(map[string]string{key: val})); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: %v", key, val, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		modify func(*Config)
		want   string
	}{
		"port":       {func(c *Config) { c.Port = 70000 }, "--port"},
		"tls pair":   {func(c *Config) { c.TLSCert = "a.crt" }, "--tls-cert and --tls-key"},
		"client ca":  {func(c *Config) { c.TLSClientCA = "ca.crt" }, "--tls-client-ca"},
		"log level":  {func(c *Config) { c.LogLevel = "loud" }, "--log-level"},
		"lease":      {func(c *Config) { c.LeaseDuration = c.HeartbeatInterval }, "lease duration"},
		"scheduler":  {func(c *Config) { c.SchedulerMaxRuns = 1; c.SchedulerMinRuns = 3 }, "scheduler limits"},
		"empty home": {func(c *Config) { c.Home = "" }, "ORION_HOME"},
	} {
		c := Default()
		c.Home = "/h"
		tc.modify(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %q", name, err, tc.want)
		}
	}
	c := Default()
	if !c.IsLoopback() {
		t.Error("the default host is loopback")
	}
}
