/**
 * The fleet's TLS certificate authority made by Terraform (`secrets.tlsCa: TlsCa.TERRAFORM`, the default): an ECDSA
 * P-256 key and a self-signed CA certificate from the `tls` provider, stored as the CA secret's value
 * (JSON `{"cert", "key"}`, what `bin/fill-tls-ca` stores) in every region and cloud, like the passwords. The JSON
 * holds only expressions; the key is in Terraform state, as the passwords are.
 */
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { Fn, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Topology } from '../topology/topology';
import { stackProviders } from './providers';

/** Ten years: members' certificates (issued at boot) chain to it; replacing it means replacing every member. */
const CA_VALIDITY_HOURS = 10 * 365 * 24;

/** The CA secret's value (a Terraform expression), or undefined when an operator fills it. */
export function terraformTlsCa(scope: Construct, topology: Topology): string | undefined {
  if (topology.secrets.tlsCaSource !== 'terraform') return undefined;
  // The stack's tls provider (it takes no configuration), else one for the whole stack (a second fleet finds it).
  const stack = TerraformStack.of(scope);
  const provider = (stackProviders(scope, 'tls')[0] as TlsProvider | undefined) ?? new TlsProvider(stack, 'distributed-postgres-tls');
  const ca = new Construct(scope, 'tls-ca');
  const key = new PrivateKey(ca, 'key', { provider, algorithm: 'ECDSA', ecdsaCurve: 'P256' });
  const certificate = new SelfSignedCert(ca, 'certificate', {
    provider,
    privateKeyPem: key.privateKeyPem,
    isCaCertificate: true,
    validityPeriodHours: CA_VALIDITY_HOURS,
    allowedUses: ['cert_signing', 'crl_signing'],
    // As openssl's own CA certificates have it (bin/fill-tls-ca): members' certificates name it as their authority.
    setSubjectKeyId: true,
    subject: [{ commonName: `${topology.secrets.tlsCa} distributed-postgres CA` }],
  });
  return Fn.jsonencode({ cert: certificate.certPem, key: key.privateKeyPem });
}
