# One image per bookmaker feature of bins/xtr, plus extractors/bookmakers with all of
# them, from docker/Dockerfile:
#
#   docker buildx bake                    # every image (the default group)
#   docker buildx bake kambi              # one image: extractors/kambi
#   VERSION=0.1.0 REVISION=$(git rev-parse HEAD) TAG=0.1.0 docker buildx bake
#
# The targets share the dependency recipe, but each feature set compiles its own
# dependency layer. A new bookmaker feature needs a target here and in the default
# group; bins/xtr/tests/container.rs fails until it has one.

variable "TAG" {
  default = "latest"
}

variable "VERSION" {
  default = "dev"
}

variable "REVISION" {
  default = "unknown"
}

group "default" {
  targets = ["bookmakers", "kambi", "pinnacle", "betfair", "bwin", "betway", "sbtech"]
}

target "_common" {
  context    = "."
  dockerfile = "docker/Dockerfile"
  args = {
    VERSION  = VERSION
    REVISION = REVISION
  }
}

target "bookmakers" {
  inherits = ["_common"]
  args     = { FEATURES = "all" }
  tags     = ["extractors/bookmakers:${TAG}"]
}

target "kambi" {
  inherits = ["_common"]
  args     = { FEATURES = "kambi" }
  tags     = ["extractors/kambi:${TAG}"]
}

target "pinnacle" {
  inherits = ["_common"]
  args     = { FEATURES = "pinnacle" }
  tags     = ["extractors/pinnacle:${TAG}"]
}

target "betfair" {
  inherits = ["_common"]
  args     = { FEATURES = "betfair" }
  tags     = ["extractors/betfair:${TAG}"]
}

target "bwin" {
  inherits = ["_common"]
  args     = { FEATURES = "bwin" }
  tags     = ["extractors/bwin:${TAG}"]
}

target "betway" {
  inherits = ["_common"]
  args     = { FEATURES = "betway" }
  tags     = ["extractors/betway:${TAG}"]
}

target "sbtech" {
  inherits = ["_common"]
  args     = { FEATURES = "sbtech" }
  tags     = ["extractors/sbtech:${TAG}"]
}
