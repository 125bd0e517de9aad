package orchestration

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// ErrInvalidProposal means a proposal cannot be evaluated (no state type).
var ErrInvalidProposal = errors.New("invalid state proposal")

// NewState turns a proposal into a state record: it checks the type, fills
// the default name, and gives a SCHEDULED state its scheduled time (now when
// unset). id and transitionID are stored as given.
func NewState(p *orionv1.StateProposal, now time.Time, id, transitionID string) (*orionv1.State, error) {
	if p == nil || p.GetType() == orionv1.StateType_STATE_TYPE_UNSPECIFIED {
		return nil, fmt.Errorf("%w: state.type is required (e.g. STATE_TYPE_RUNNING)", ErrInvalidProposal)
	}
	if _, ok := orionv1.StateType_name[int32(p.GetType())]; !ok {
		return nil, fmt.Errorf("%w: state.type %d is not a known state type", ErrInvalidProposal, p.GetType())
	}
	s := &orionv1.State{
		Id:           id,
		Type:         p.GetType(),
		Name:         p.GetName(),
		Message:      p.GetMessage(),
		Timestamp:    timestamppb.New(now),
		TransitionId: transitionID,
		ExitCode:     p.ExitCode,
	}
	if s.Name == "" {
		s.Name = DefaultName(s.Type)
	}
	if s.Type == Scheduled {
		s.ScheduledTime = p.GetScheduledTime()
		if s.ScheduledTime == nil {
			s.ScheduledTime = timestamppb.New(now)
		}
	}
	return s, nil
}

// Apply records an accepted (or server-chosen) state on the run and performs
// the bookkeeping Prefect users know: state, run count, start and end times,
// total run time, expected start time and next scheduled start time. The
// state's timestamp is the transition time. Apply modifies run in place.
func Apply(run *orionv1.FlowRun, s *orionv1.State) {
	now := s.GetTimestamp().AsTime()
	prev := run.GetState()

	// Time spent in RUNNING counts towards the total run time.
	if prev.GetType() == Running && prev.GetTimestamp() != nil {
		total := run.GetTotalRunTime().AsDuration() + now.Sub(prev.GetTimestamp().AsTime())
		run.TotalRunTime = durationpb.New(total)
	}
	if run.TotalRunTime == nil {
		run.TotalRunTime = durationpb.New(0)
	}

	if run.ExpectedStartTime == nil {
		if s.GetType() == Scheduled && s.GetScheduledTime() != nil {
			run.ExpectedStartTime = s.GetScheduledTime()
		} else {
			run.ExpectedStartTime = s.GetTimestamp()
		}
	}

	// CopyScheduledTime: a claim made early (prefetch) keeps the scheduled
	// time on the PENDING state, so the WAIT before RUNNING is derived from
	// the store, also after a server restart.
	if s.GetType() == Pending && s.GetScheduledTime() == nil && prev.GetType() == Scheduled {
		s.ScheduledTime = run.GetNextScheduledStartTime()
	}
	if s.GetType() == Scheduled {
		run.NextScheduledStartTime = s.GetScheduledTime()
	} else {
		run.NextScheduledStartTime = nil
	}

	if s.GetType() == Running {
		run.RunCount++
		if run.StartTime == nil {
			run.StartTime = s.GetTimestamp()
		}
	}

	if IsTerminal(s.GetType()) {
		run.EndTime = s.GetTimestamp()
	} else {
		run.EndTime = nil
	}

	// A run that leaves the agent's hands drops its lease.
	if !IsHeld(s.GetType()) {
		run.LeaseExpireTime = nil
	}

	run.State = s
	run.UpdateTime = s.GetTimestamp()
}

func cloneState(s *orionv1.State) *orionv1.State {
	return proto.Clone(s).(*orionv1.State)
}
