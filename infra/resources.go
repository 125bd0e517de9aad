package infra

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"
)

// resourcesField parses `resources: {requests: {cpu, memory}, limits:
// {cpu, memory}}`.
func resourcesField(dst *Resources) func(string, *structpb.Value) error {
	return func(path string, v *structpb.Value) error {
		s, ok := v.GetKind().(*structpb.Value_StructValue)
		if !ok {
			return fmt.Errorf("%s: expected a mapping with requests and/or limits, got %s", path, kindName(v))
		}
		for k, side := range s.StructValue.GetFields() {
			var list *ResourceList
			switch k {
			case "requests":
				list = &dst.Requests
			case "limits":
				list = &dst.Limits
			default:
				return fmt.Errorf("%s.%s: unknown field; valid fields: limits, requests", path, k)
			}
			if err := resourceList(path+"."+k, side, list); err != nil {
				return err
			}
		}
		return nil
	}
}

func resourceList(path string, v *structpb.Value, dst *ResourceList) error {
	s, ok := v.GetKind().(*structpb.Value_StructValue)
	if !ok {
		return fmt.Errorf("%s: expected a mapping with cpu and/or memory, got %s", path, kindName(v))
	}
	for k, item := range s.StructValue.GetFields() {
		text, ok := quantityText(item)
		if !ok {
			return fmt.Errorf("%s.%s: expected a quantity such as \"500m\" or \"1Gi\", got %s", path+"", k, kindName(item))
		}
		switch k {
		case "cpu":
			if _, err := ParseCPU(text); err != nil {
				return fmt.Errorf("%s.cpu: %v", path, err)
			}
			dst.CPU = text
		case "memory":
			if _, err := ParseMemory(text); err != nil {
				return fmt.Errorf("%s.memory: %v", path, err)
			}
			dst.Memory = text
		default:
			return fmt.Errorf("%s.%s: unknown resource; valid resources: cpu, memory", path, k)
		}
	}
	return nil
}

// quantityText accepts a string or a number (YAML's `cpu: 2`).
func quantityText(v *structpb.Value) (string, bool) {
	switch x := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return x.StringValue, x.StringValue != ""
	case *structpb.Value_NumberValue:
		return strconv.FormatFloat(x.NumberValue, 'f', -1, 64), true
	}
	return "", false
}

// check rejects requests above limits.
func (r Resources) check(typ string) error {
	if r.Requests.CPU != "" && r.Limits.CPU != "" {
		req, _ := ParseCPU(r.Requests.CPU)
		lim, _ := ParseCPU(r.Limits.CPU)
		if req > lim {
			return fmt.Errorf("infrastructure.config.resources: requests.cpu %s exceeds limits.cpu %s for %s infrastructure: lower the request or raise the limit", r.Requests.CPU, r.Limits.CPU, typ)
		}
	}
	if r.Requests.Memory != "" && r.Limits.Memory != "" {
		req, _ := ParseMemory(r.Requests.Memory)
		lim, _ := ParseMemory(r.Limits.Memory)
		if req > lim {
			return fmt.Errorf("infrastructure.config.resources: requests.memory %s exceeds limits.memory %s for %s infrastructure: lower the request or raise the limit", r.Requests.Memory, r.Limits.Memory, typ)
		}
	}
	return nil
}

var (
	reCPU    = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m?)$`)
	reMemory = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?$`)
)

// ParseCPU parses a CPU quantity ("2", "0.5", "500m") into millicores.
func ParseCPU(s string) (int64, error) {
	g := reCPU.FindStringSubmatch(s)
	if g == nil {
		return 0, fmt.Errorf("%q is not a CPU quantity: use cores (\"2\", \"0.5\") or millicores (\"500m\")", s)
	}
	f, _ := strconv.ParseFloat(g[1], 64)
	if g[2] == "" {
		f *= 1000
	}
	if f < 1 || f > math.MaxInt32 {
		return 0, fmt.Errorf("%q is not a usable CPU quantity: it must be at least 1m", s)
	}
	return int64(math.Ceil(f)), nil
}

// ParseMemory parses a memory quantity ("512Mi", "1G", "1048576") into
// bytes.
func ParseMemory(s string) (int64, error) {
	g := reMemory.FindStringSubmatch(s)
	if g == nil {
		return 0, fmt.Errorf("%q is not a memory quantity: use bytes or a suffix such as \"256Mi\", \"1Gi\" or \"500M\"", s)
	}
	f, _ := strconv.ParseFloat(g[1], 64)
	mult := map[string]float64{
		"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
	}[g[2]]
	b := f * mult
	// Docker refuses memory limits below 6 MB; anything that small is a
	// unit mistake ("512" meant 512Mi) rather than a real limit.
	if b < 6<<20 || b > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not a usable memory quantity: it must be at least 6Mi (did you forget a unit such as Mi?)", s)
	}
	return int64(b), nil
}
