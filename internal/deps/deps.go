// Package deps pins module requirements while the tree is being built.
package deps

import (
	_ "github.com/google/uuid"
	_ "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	_ "github.com/hashicorp/go-hclog"
	_ "github.com/robfig/cron/v3"
	_ "github.com/soheilhy/cmux"
	_ "github.com/spf13/cobra"
	_ "github.com/teambition/rrule-go"
	_ "go.etcd.io/bbolt"
	_ "go.uber.org/goleak"
	_ "golang.org/x/sync/errgroup"
	_ "google.golang.org/grpc"
	_ "google.golang.org/grpc/health"
	_ "google.golang.org/protobuf/proto"
	_ "gopkg.in/yaml.v3"
)
