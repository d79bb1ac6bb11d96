#!/bin/sh
# s3-standin: the rehearsal's stand-in for the cloud's object store (S3) and instance metadata service, booted on a
# test host of its own (never a fleet machine): Debian 13 (trixie) with moto's server (python3-moto 5.1, `moto_server`,
# with Flask for its HTTP side), which serves S3 for the fleet's pgBackRest, behind nginx for TLS and HTTP/1.1 as S3
# speaks it (werkzeug's development server closes every connection without a TLS close_notify, which pgBackRest
# rightly reports as a truncated response). Debian 12 has no python3-moto, hence an image of its own beside the
# fleet's. The IMDS stand-in is the rehearsal's own script on the image's python3.
. "$(dirname "$0")/../common.sh"
debian_rootfs trixie "$1" python3-moto python3-flask python3-flask-cors python3-werkzeug nginx
