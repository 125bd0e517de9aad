package runs

import (
	"crypto/rand"
	"math/big"
)

// Word lists for readable run names ("messy-petrel"), as Prefect users know.
var adjectives = []string{
	"able", "amber", "ancient", "bold", "brave", "bright", "brisk", "calm", "candid", "cheerful",
	"clever", "cosmic", "crimson", "curious", "daring", "dashing", "eager", "earnest", "electric", "elegant",
	"fancy", "fearless", "festive", "fierce", "friendly", "gentle", "giant", "glorious", "golden", "graceful",
	"happy", "hidden", "honest", "humble", "icy", "jolly", "jovial", "keen", "kind", "lively",
	"lucky", "lunar", "majestic", "mellow", "merry", "messy", "mighty", "misty", "modest", "nimble",
	"noble", "opal", "patient", "peaceful", "polite", "proud", "quick", "quiet", "radiant", "rapid",
	"rustic", "sandy", "scarlet", "shiny", "silent", "silver", "sly", "smart", "snowy", "solar",
	"sparkling", "speedy", "spicy", "steady", "stellar", "stoic", "sturdy", "sunny", "swift", "tactful",
	"tidy", "tough", "tranquil", "true", "vagabond", "valiant", "vivid", "warm", "wise", "witty",
	"zealous", "zippy",
}

var animals = []string{
	"albatross", "alpaca", "anteater", "armadillo", "badger", "bat", "bear", "beaver", "bison", "bobcat",
	"buffalo", "camel", "caribou", "cheetah", "chipmunk", "cobra", "condor", "cougar", "coyote", "crane",
	"dingo", "dolphin", "donkey", "eagle", "eel", "falcon", "ferret", "finch", "flamingo", "fox",
	"gazelle", "gecko", "gibbon", "giraffe", "gorilla", "grouse", "hare", "hawk", "hedgehog", "heron",
	"hippo", "hyena", "ibis", "iguana", "impala", "jackal", "jaguar", "kangaroo", "kestrel", "koala",
	"lemur", "leopard", "llama", "lobster", "lynx", "macaw", "manatee", "marmot", "meerkat", "mole",
	"moose", "narwhal", "newt", "ocelot", "octopus", "okapi", "orca", "otter", "owl", "panda",
	"panther", "parrot", "pelican", "penguin", "petrel", "pheasant", "puffin", "quail", "rabbit", "raccoon",
	"raven", "reindeer", "salamander", "seal", "shark", "sloth", "sparrow", "squid", "stork", "swan",
	"tapir", "tiger", "toucan", "turtle", "walrus", "weasel", "whale", "wolf", "wombat", "zebra",
}

// NewName returns a random two-word slug such as "messy-petrel".
func NewName() string {
	return pick(adjectives) + "-" + pick(animals)
}

func pick(words []string) string {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(words))))
	if err != nil {
		return words[0]
	}
	return words[n.Int64()]
}
