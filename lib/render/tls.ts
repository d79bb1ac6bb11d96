/**
 * Per-machine TLS: at boot every machine makes its own key and CSR and signs it with the fleet CA, read from
 * the secret store (JSON `{"cert": PEM, "key": PEM}`). The CA key exists only in a private temporary
 * directory for the few milliseconds of signing; user-data never carries key material.
 */
import { Machine } from './machine';
import { FILES } from './paths';
import { checked } from './quote';

/** Subject alternative names: what peers, clients and load balancers dial. */
export function subjectAltNames(machine: Machine): string[] {
  const ip = (value: string) => `IP:${checked('an IPv4 address', value)}`;
  const dns = (value: string) => `DNS:${checked('a DNS name', value)}`;
  const names = [ip(machine.privateIp), dns(machine.fqdn)];
  if (machine.role === 'postgres') names.push(dns(machine.group.endpointFqdn), ...machine.group.loadBalancerIps.map(ip));
  names.push('IP:127.0.0.1', 'DNS:localhost');
  return [...new Set(names)];
}

/** Days a member certificate is valid; the bootstrap re-issues one that expires within 30 days. */
export const CERTIFICATE_DAYS = 3650;

export function issueCertificateScript(): string {
  return `#!/bin/bash
# Issues this machine's certificate (SANs from member.env), signed by the fleet CA from the secret store.
# Idempotent: keeps a certificate that has the same SANs and 30 more days of validity.
set -euo pipefail
. ${FILES.memberEnv}
umask 077
dir=${FILES.tlsDir}
install -d -m 0755 "$dir"
if [ -s ${FILES.memberCert} ] && [ -s ${FILES.memberKey} ] && [ -s ${FILES.caCert} ] \\
  && openssl x509 -checkend 2592000 -noout -in ${FILES.memberCert} >/dev/null \\
  && [ "$(cat "$dir/member.sans" 2>/dev/null)" = "$DPG_TLS_SANS" ]; then
  echo "certificate for $DPG_FQDN is current"
else
  work=$(mktemp -d /run/dpg-tls.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  ${FILES.secretCommand} "$DPG_SECRET_TLS_CA" | python3 -c '
import json, sys
ca = json.load(sys.stdin)
for key, path in (("cert", sys.argv[1]), ("key", sys.argv[2])):
    with open(path, "w") as f:
        f.write(ca[key].strip() + "\\n")
' "$work/ca.crt" "$work/ca.key"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$DPG_FQDN" \\
    -keyout "$work/member.key" -out "$work/member.csr" 2>/dev/null
  printf '%s\\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \\
    'extendedKeyUsage=serverAuth,clientAuth' "subjectAltName=$DPG_TLS_SANS" > "$work/ext.cnf"
  openssl x509 -req -sha256 -days ${CERTIFICATE_DAYS} -set_serial "0x$(openssl rand -hex 16)" -in "$work/member.csr" \\
    -CA "$work/ca.crt" -CAkey "$work/ca.key" -extfile "$work/ext.cnf" -out "$work/member.crt" 2>/dev/null
  openssl verify -CAfile "$work/ca.crt" "$work/member.crt" >/dev/null
  install -m 0644 "$work/ca.crt" ${FILES.caCert}
  install -m 0644 "$work/member.crt" ${FILES.memberCert}
  install -m 0600 "$work/member.key" ${FILES.memberKey}
  printf '%s' "$DPG_TLS_SANS" > "$dir/member.sans"
  echo "issued certificate for $DPG_FQDN ($DPG_TLS_SANS)"
fi
# Postgres accepts only a key owned by its user (0600); etcd and the exporters get their own copies too.
if id -u postgres >/dev/null 2>&1; then install -o postgres -g postgres -m 0600 ${FILES.memberKey} ${FILES.postgresKey}; fi
if id -u etcd >/dev/null 2>&1; then install -o etcd -g etcd -m 0600 ${FILES.memberKey} ${FILES.etcdKey}; fi
# The Prometheus exporters (Debian's packages run them as prometheus) read their own copy.
if id -u prometheus >/dev/null 2>&1; then install -o prometheus -g prometheus -m 0600 ${FILES.memberKey} ${FILES.prometheusKey}; fi
`;
}
