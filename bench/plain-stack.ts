/**
 * The baseline: the same resources (types and counts) as the library creates, written as a plain, hand-written cdktf
 * stack with the provider classes and literal values (the plan file stands for the literals a person would type:
 * names, CIDRs, addresses and user-data files). No validation, no topology resolution, no rendering, no diagram.
 * Deliberately imports nothing from lib/.
 */
import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { CustomerGateway } from '@cdktf/provider-aws/lib/customer-gateway';
import { EbsVolume } from '@cdktf/provider-aws/lib/ebs-volume';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { Instance } from '@cdktf/provider-aws/lib/instance';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { LbTargetGroupAttachment } from '@cdktf/provider-aws/lib/lb-target-group-attachment';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Route } from '@cdktf/provider-aws/lib/route';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { Route53Zone } from '@cdktf/provider-aws/lib/route53-zone';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { VolumeAttachment } from '@cdktf/provider-aws/lib/volume-attachment';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcIpv4CidrBlockAssociation } from '@cdktf/provider-aws/lib/vpc-ipv4-cidr-block-association';
import { VpcPeeringConnection } from '@cdktf/provider-aws/lib/vpc-peering-connection';
import { VpcPeeringConnectionAccepterA } from '@cdktf/provider-aws/lib/vpc-peering-connection-accepter';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { VpnConnection } from '@cdktf/provider-aws/lib/vpn-connection';
import { VpnGateway } from '@cdktf/provider-aws/lib/vpn-gateway';
import { VpnGatewayRoutePropagation } from '@cdktf/provider-aws/lib/vpn-gateway-route-propagation';
import { ComputeAddress } from '@cdktf/provider-google/lib/compute-address';
import { ComputeDisk } from '@cdktf/provider-google/lib/compute-disk';
import { ComputeExternalVpnGateway } from '@cdktf/provider-google/lib/compute-external-vpn-gateway';
import { ComputeFirewall } from '@cdktf/provider-google/lib/compute-firewall';
import { ComputeForwardingRule } from '@cdktf/provider-google/lib/compute-forwarding-rule';
import { ComputeHaVpnGateway } from '@cdktf/provider-google/lib/compute-ha-vpn-gateway';
import { ComputeInstance } from '@cdktf/provider-google/lib/compute-instance';
import { ComputeInstanceGroup } from '@cdktf/provider-google/lib/compute-instance-group';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network';
import { ComputeRegionBackendService } from '@cdktf/provider-google/lib/compute-region-backend-service';
import { ComputeRegionHealthCheck } from '@cdktf/provider-google/lib/compute-region-health-check';
import { ComputeRouter } from '@cdktf/provider-google/lib/compute-router';
import { ComputeRouterInterface } from '@cdktf/provider-google/lib/compute-router-interface';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat';
import { ComputeRouterPeer } from '@cdktf/provider-google/lib/compute-router-peer';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork';
import { ComputeVpnTunnel } from '@cdktf/provider-google/lib/compute-vpn-tunnel';
import { DnsManagedZone } from '@cdktf/provider-google/lib/dns-managed-zone';
import { DnsRecordSet } from '@cdktf/provider-google/lib/dns-record-set';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { SecretManagerSecret } from '@cdktf/provider-google/lib/secret-manager-secret';
import { SecretManagerSecretIamMember } from '@cdktf/provider-google/lib/secret-manager-secret-iam-member';
import { SecretManagerSecretVersion } from '@cdktf/provider-google/lib/secret-manager-secret-version';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageManagedFolder } from '@cdktf/provider-google/lib/storage-managed-folder';
import { StorageManagedFolderIamMember } from '@cdktf/provider-google/lib/storage-managed-folder-iam-member';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { DataResource, Fn, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';

/** The literals of a fleet, as a hand-written stack would spell them out (the benchmark writes them from a topology). */
export interface PlainPlan {
  fleet: string;
  dnsZone: string;
  secrets: string[];
  passwords: string[];
  /** The CA secret's name when Terraform makes the CA (the default), else absent. */
  tlsCa?: string;
  /** Each node group's mesh document: its secret name and stored value. */
  documents: { group: string; name: string; value: string }[];
  /** Postgres sources (fleet + clients) and Patroni sources (fleet), already merged into few blocks. */
  postgresSources: string[];
  patroniSources: string[];
  /** Exporter scrape sources (fleet + monitoring ranges, merged) when the fleet's monitoring is on, and the monitoring ranges. */
  scrapeSources?: string[];
  scrapeCidrs: string[];
  fleetCidrs: string[];
  clientCidrs: string[];
  awsVpcs: { region: string; cidrs: string[]; groups: string[]; egressSubnet: string }[];
  groups: {
    name: string; cloud: 'aws' | 'gcp'; region: string; cidr: string; machineType: string; etcdMachineType: string;
    disk: { sizeGiB: number; type: string }; subnets: { zone: string; cidr: string }[]; lbIps: string[]; endpoint: string;
    machines: { name: string; zone: string; ip: string; fqdn: string; data: boolean; userData: string }[];
  }[];
  /** The backup buckets (one per region with backups) and each group's repository prefix in its region's bucket. */
  buckets: { cloud: 'aws' | 'gcp'; region: string; name: string }[];
  repositories: { group: string; bucket: string; prefix: string }[];
  peerings: { requester: string; accepter: string }[];
  vpns: { awsRegion: string; gcpRegion: string; awsAsn: number; gcpAsn: number; tunnels: { c: number; t: number; gcpIf: number; inside: string }[] }[];
}

export class PlainStack extends TerraformStack {
  /** One fleet's plan, or several (fleets side by side in one stack, sharing the providers). */
  constructor(scope: Construct, id: string, plan: PlainPlan | PlainPlan[]) {
    super(scope, id);
    const plans = Array.isArray(plan) ? plan : [plan];
    const aws: Record<string, AwsProvider> = {};
    for (const v of plans.flatMap((x) => x.awsVpcs)) {
      aws[v.region] ??= new AwsProvider(this, `aws-${v.region}`, { region: v.region, alias: v.region });
    }
    const hasGcp = plans.some((x) => x.groups.some((g) => g.cloud === 'gcp'));
    const google = hasGcp ? new GoogleProvider(this, 'google', { project: 'bench' }) : undefined;
    const tls = plans.some((x) => x.tlsCa) ? new TlsProvider(this, 'tls') : undefined;
    plans.forEach((x, i) => this.fleet(plans.length === 1 ? this : new Construct(this, `fleet-${i}`), x, aws, google, tls));
  }

  private fleet(scope: Construct, plan: PlainPlan, aws: Record<string, AwsProvider>, google: GoogleProvider | undefined, tls: TlsProvider | undefined): void {
    const f = plan.fleet;

    const seeds: Record<string, string> = {};
    for (const p of plan.passwords) {
      seeds[p] = new DataResource(scope, `pw-${p}`, { input: { value: '${sensitive(replace(uuid(), "-", ""))}' }, lifecycle: { ignoreChanges: ['input'] } })
        .getStringAttribute('output.value');
    }
    if (plan.tlsCa) {
      const key = new PrivateKey(scope, 'ca-key', { provider: tls!, algorithm: 'ECDSA', ecdsaCurve: 'P256' });
      const cert = new SelfSignedCert(scope, 'ca-cert', {
        provider: tls!, privateKeyPem: key.privateKeyPem, isCaCertificate: true, validityPeriodHours: 87600,
        allowedUses: ['cert_signing', 'crl_signing'], setSubjectKeyId: true, subject: [{ commonName: `${plan.tlsCa} CA` }],
      });
      seeds[plan.tlsCa] = Fn.jsonencode({ cert: cert.certPem, key: key.privateKeyPem });
    }

    const vpcs: Record<string, { vpc: Vpc; rt: RouteTable; subnets: Record<string, Subnet>; profiles: Record<string, IamInstanceProfile> }> = {};
    for (const v of plan.awsVpcs) {
      const p = { provider: aws[v.region], region: v.region };
      const vpc = new Vpc(scope, `vpc-${v.region}`, { ...p, cidrBlock: v.cidrs[0], enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `${f}-${v.region}` } });
      v.cidrs.slice(1).forEach((c) => new VpcIpv4CidrBlockAssociation(scope, `cidr-${c}`, { ...p, vpcId: vpc.id, cidrBlock: c }));
      const igw = new InternetGateway(scope, `igw-${v.region}`, { ...p, vpcId: vpc.id });
      const egress = new Subnet(scope, `egress-${v.region}`, { ...p, vpcId: vpc.id, cidrBlock: v.egressSubnet, mapPublicIpOnLaunch: false });
      const pub = new RouteTable(scope, `public-rt-${v.region}`, { ...p, vpcId: vpc.id });
      new Route(scope, `public-default-${v.region}`, { ...p, routeTableId: pub.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });
      new RouteTableAssociation(scope, `public-rta-${v.region}`, { ...p, subnetId: egress.id, routeTableId: pub.id });
      const eip = new Eip(scope, `eip-${v.region}`, { ...p, domain: 'vpc' });
      const nat = new NatGateway(scope, `nat-${v.region}`, { ...p, allocationId: eip.allocationId, subnetId: egress.id });
      const rt = new RouteTable(scope, `private-rt-${v.region}`, { ...p, vpcId: vpc.id });
      new Route(scope, `default-${v.region}`, { ...p, routeTableId: rt.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id });
      const subnets: Record<string, Subnet> = {};
      for (const g of plan.groups.filter((x) => v.groups.includes(x.name))) {
        for (const s of g.subnets) {
          subnets[`${g.name}/${s.zone}`] = new Subnet(scope, `subnet-${g.name}-${s.zone}`, { ...p, vpcId: vpc.id, cidrBlock: s.cidr, availabilityZone: s.zone, mapPublicIpOnLaunch: false });
          new RouteTableAssociation(scope, `rta-${g.name}-${s.zone}`, { ...p, subnetId: subnets[`${g.name}/${s.zone}`].id, routeTableId: rt.id });
        }
      }
      const secrets = plan.secrets.map((s) => {
        const secret = new SecretsmanagerSecret(scope, `secret-${v.region}-${s}`, { ...p, name: s });
        if (seeds[s]) new SecretsmanagerSecretVersion(scope, `secret-${v.region}-${s}-v`, { ...p, secretId: secret.id, secretString: seeds[s] });
        return secret;
      });
      // Each group's role reads the fleet's secrets and its own group's documents.
      const documents: Record<string, SecretsmanagerSecret[]> = {};
      for (const d of plan.documents.filter((x) => v.groups.includes(x.group))) {
        const secret = new SecretsmanagerSecret(scope, `doc-${d.name}`, { ...p, name: d.name });
        new SecretsmanagerSecretVersion(scope, `doc-${d.name}-v`, { ...p, secretId: secret.id, secretString: d.value });
        (documents[d.group] ??= []).push(secret);
      }
      const buckets: Record<string, { arn: string; key: string }> = {};
      for (const b of plan.buckets.filter((x) => x.cloud === 'aws' && x.region === v.region)) {
        const key = new KmsKey(scope, `bkey-${b.name}`, { ...p, enableKeyRotation: true, deletionWindowInDays: 30 });
        new KmsAlias(scope, `bkey-${b.name}-alias`, { ...p, name: `alias/${f}-backup`, targetKeyId: key.keyId });
        const bucket = new S3Bucket(scope, `bucket-${b.name}`, { ...p, bucket: b.name });
        new S3BucketPublicAccessBlock(scope, `bucket-${b.name}-pab`, { ...p, bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        new S3BucketOwnershipControls(scope, `bucket-${b.name}-own`, { ...p, bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
        new S3BucketVersioningA(scope, `bucket-${b.name}-ver`, { ...p, bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } });
        new S3BucketServerSideEncryptionConfigurationA(scope, `bucket-${b.name}-sse`, { ...p, bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }] });
        new S3BucketPolicy(scope, `bucket-${b.name}-policy`, { ...p, bucket: bucket.id, policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${b.name}`, `arn:aws:s3:::${b.name}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] }) });
        new S3BucketLifecycleConfiguration(scope, `bucket-${b.name}-life`, { ...p, bucket: bucket.id, rule: [{ id: 'expire-old-versions', status: 'Enabled', filter: [{ prefix: '' }], noncurrentVersionExpiration: [{ noncurrentDays: 30 }], abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }] }] });
        buckets[b.name] = { arn: `arn:aws:s3:::${b.name}`, key: key.arn };
      }
      const profiles: Record<string, IamInstanceProfile> = {};
      for (const g of plan.groups.filter((x) => v.groups.includes(x.name))) {
        const name = `${f}-${g.name}-db`;
        const assume = new DataAwsIamPolicyDocument(scope, `assume-${g.name}`, { provider: p.provider, statement: [{ actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['ec2.amazonaws.com'] }] }] });
        const role = new IamRole(scope, `role-${g.name}`, { provider: p.provider, name, assumeRolePolicy: assume.json });
        const read = new DataAwsIamPolicyDocument(scope, `read-${g.name}`, { provider: p.provider, statement: [{ actions: ['secretsmanager:GetSecretValue'], resources: [...secrets, ...(documents[g.name] ?? [])].map((s) => s.arn) }] });
        new IamRolePolicy(scope, `policy-${g.name}`, { provider: p.provider, role: role.id, policy: read.json });
        const repo = plan.repositories.find((r) => r.group === g.name);
        if (repo) {
          const b = buckets[repo.bucket];
          const access = new DataAwsIamPolicyDocument(scope, `backup-${g.name}`, { provider: p.provider, statement: [
            { actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [b.arn], condition: [{ test: 'StringLike', variable: 's3:prefix', values: [`${repo.prefix}/*`] }] },
            { actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:DeleteObject'], resources: [`${b.arn}/${repo.prefix}/*`] },
            { actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [b.key] },
          ] });
          new IamRolePolicy(scope, `backup-policy-${g.name}`, { provider: p.provider, role: role.id, policy: access.json });
        }
        profiles[g.name] = new IamInstanceProfile(scope, `profile-${g.name}`, { provider: p.provider, name, role: role.name });
      }
      vpcs[v.region] = { vpc, rt, subnets, profiles };
    }

    const home = plan.groups.find((g) => g.cloud === 'aws');
    const zone = home ? new Route53Zone(scope, 'zone', { provider: aws[home.region], name: plan.dnsZone, vpc: plan.awsVpcs.map((v) => ({ vpcId: vpcs[v.region].vpc.id, vpcRegion: v.region })) }) : undefined;
    let network: ComputeNetwork | undefined;
    let gzone: DnsManagedZone | undefined;
    const sas: Record<string, ServiceAccount> = {};
    const gsubnets: Record<string, ComputeSubnetwork> = {};
    if (google) {
      network = new ComputeNetwork(scope, 'network', { provider: google, name: f, autoCreateSubnetworks: false, routingMode: 'GLOBAL' });
      for (const g of plan.groups.filter((x) => x.cloud === 'gcp')) {
        gsubnets[g.name] = new ComputeSubnetwork(scope, `gsubnet-${g.name}`, { provider: google, name: `${f}-${g.name}`, region: g.region, network: network.id, ipCidrRange: g.cidr, privateIpGoogleAccess: true });
      }
      for (const r of [...new Set(plan.groups.filter((x) => x.cloud === 'gcp').map((g) => g.region))]) {
        const router = new ComputeRouter(scope, `nat-router-${r}`, { provider: google, name: `${f}-nat-${r}`, region: r, network: network.id });
        new ComputeRouterNat(scope, `nat-${r}`, { provider: google, name: `${f}-nat-${r}`, region: r, router: router.name, natIpAllocateOption: 'AUTO_ONLY', sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES' });
      }
      const gsecrets: SecretManagerSecret[] = [];
      for (const s of plan.secrets) {
        const secret = new SecretManagerSecret(scope, `gsecret-${s}`, { provider: google, secretId: s, replication: { auto: {} } });
        if (seeds[s]) new SecretManagerSecretVersion(scope, `gsecret-${s}-v`, { provider: google, secret: secret.id, secretData: seeds[s] });
        gsecrets.push(secret);
      }
      const gcpGroups = new Set(plan.groups.filter((x) => x.cloud === 'gcp').map((g) => g.name));
      const gdocuments: Record<string, SecretManagerSecret[]> = {};
      for (const d of plan.documents.filter((x) => gcpGroups.has(x.group))) {
        const secret = new SecretManagerSecret(scope, `gdoc-${d.name}`, { provider: google, secretId: d.name, replication: { auto: {} } });
        new SecretManagerSecretVersion(scope, `gdoc-${d.name}-v`, { provider: google, secret: secret.id, secretData: d.value });
        (gdocuments[d.group] ??= []).push(secret);
      }
      const gbuckets: Record<string, StorageBucket> = {};
      for (const b of plan.buckets.filter((x) => x.cloud === 'gcp')) {
        gbuckets[b.name] = new StorageBucket(scope, `gbucket-${b.name}`, {
          provider: google, name: b.name, location: b.region.toUpperCase(), uniformBucketLevelAccess: true, publicAccessPrevention: 'enforced', versioning: { enabled: true },
          lifecycleRule: [{ action: { type: 'Delete' }, condition: { daysSinceNoncurrentTime: 30, withState: 'ARCHIVED' } }, { action: { type: 'AbortIncompleteMultipartUpload' }, condition: { age: 7 } }],
        });
      }
      for (const g of plan.groups.filter((x) => x.cloud === 'gcp')) {
        const account = new ServiceAccount(scope, `sa-${g.name}`, { provider: google, accountId: `${f}-${g.name}-db` });
        sas[g.name] = account;
        [...gsecrets, ...(gdocuments[g.name] ?? [])].forEach((secret, i) => new SecretManagerSecretIamMember(scope, `gsecret-iam-${g.name}-${i}`, { provider: google, secretId: secret.id, role: 'roles/secretmanager.secretAccessor', member: account.member }));
        const repo = plan.repositories.find((r) => r.group === g.name);
        if (repo) {
          const folder = new StorageManagedFolder(scope, `gfolder-${g.name}`, { provider: google, bucket: gbuckets[repo.bucket].name, name: `${repo.prefix}/` });
          new StorageManagedFolderIamMember(scope, `gfolder-${g.name}-iam`, { provider: google, bucket: gbuckets[repo.bucket].name, managedFolder: folder.name, role: 'roles/storage.objectUser', member: account.member });
        }
      }
      gzone = new DnsManagedZone(scope, 'gzone', { provider: google, name: `${f}-db`, dnsName: `${plan.dnsZone}.`, visibility: 'private', privateVisibilityConfig: { networks: [{ networkUrl: network.id }] } });
    }
    const record = (id: string, name: string, ips: string[]) => {
      if (zone) new Route53Record(scope, `r53-${id}`, { provider: aws[home!.region], zoneId: zone.zoneId, name, type: 'A', ttl: 300, records: ips });
      if (gzone) new DnsRecordSet(scope, `gdns-${id}`, { provider: google, managedZone: gzone.name, name: `${name}.`, type: 'A', ttl: 300, rrdatas: ips });
    };

    const amis: Record<string, DataAwsAmi> = {};
    for (const g of plan.groups) {
      const s = `${f}-${g.name}`;
      if (g.cloud === 'aws') {
        const p = { provider: aws[g.region], region: g.region };
        const { vpc, subnets, profiles } = vpcs[g.region];
        const sg = new SecurityGroup(scope, `sg-${g.name}`, { ...p, name: `${s}-db`, vpcId: vpc.id });
        const rule = (id: string, from: number, to: number, cidr: string) => new VpcSecurityGroupIngressRule(scope, `sg-${g.name}-${id}-${cidr}`, { ...p, securityGroupId: sg.id, ipProtocol: 'tcp', fromPort: from, toPort: to, cidrIpv4: cidr });
        plan.postgresSources.forEach((c) => rule('pg', 5432, 5432, c));
        plan.patroniSources.forEach((c) => rule('patroni', 8008, 8008, c));
        rule('etcd', 2379, 2380, g.cidr);
        if (plan.scrapeSources) {
          plan.scrapeSources.forEach((c) => rule('postgres-exporter', 9187, 9187, c));
          plan.scrapeSources.forEach((c) => rule('node-exporter', 9100, 9100, c));
        }
        new VpcSecurityGroupEgressRule(scope, `sg-${g.name}-egress`, { ...p, securityGroupId: sg.id, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' });
        amis[g.region] ??= new DataAwsAmi(scope, `ami-${g.region}`, { ...p, owners: ['099720109477'], mostRecent: true, filter: [{ name: 'name', values: ['ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*'] }] });
        const ami = amis[g.region];
        const tg = new LbTargetGroup(scope, `tg-${g.name}`, { ...p, name: s, port: 5432, protocol: 'TCP', vpcId: vpc.id, healthCheck: { protocol: 'HTTPS', port: '8008', path: '/primary', interval: 5, timeout: 2, healthyThreshold: 3, unhealthyThreshold: 2 } });
        for (const m of g.machines) {
          const instance = new Instance(scope, `i-${m.name}`, {
            ...p, ami: ami.id, instanceType: m.data ? g.machineType : g.etcdMachineType, subnetId: subnets[`${g.name}/${m.zone}`].id, privateIp: m.ip,
            associatePublicIpAddress: false, vpcSecurityGroupIds: [sg.id], iamInstanceProfile: profiles[g.name].name,
            metadataOptions: { httpTokens: 'required' }, rootBlockDevice: { encrypted: true, volumeSize: 30 }, userData: m.userData,
            tags: { Name: m.name }, lifecycle: { ignoreChanges: ['ami', 'user_data'] },
          });
          if (m.data) {
            const volume = new EbsVolume(scope, `v-${m.name}`, { ...p, availabilityZone: m.zone, size: g.disk.sizeGiB, type: g.disk.type, encrypted: true });
            new VolumeAttachment(scope, `va-${m.name}`, { ...p, deviceName: '/dev/sdf', volumeId: volume.id, instanceId: instance.id });
            new LbTargetGroupAttachment(scope, `tga-${m.name}`, { ...p, targetGroupArn: tg.arn, targetId: instance.id, port: 5432 });
          }
          record(m.name, m.fqdn, [m.ip]);
        }
        const lb = new Lb(scope, `lb-${g.name}`, { ...p, name: s, internal: true, loadBalancerType: 'network', subnetMapping: g.subnets.map((x, i) => ({ subnetId: subnets[`${g.name}/${x.zone}`].id, privateIpv4Address: g.lbIps[i] })) });
        new LbListener(scope, `lbl-${g.name}`, { ...p, loadBalancerArn: lb.arn, port: 5432, protocol: 'TCP', defaultAction: [{ type: 'forward', targetGroupArn: tg.arn }] });
      } else {
        const fw = (id: string, ports: string[], ranges: string[]) => new ComputeFirewall(scope, `fw-${g.name}-${id}`, { provider: google, name: `${s}-${id}`, network: network!.id, allow: [{ protocol: 'tcp', ports }], sourceRanges: ranges, targetTags: [s] });
        fw('pg', ['5432'], [...plan.fleetCidrs, ...plan.clientCidrs]);
        fw('patroni', ['8008'], plan.fleetCidrs);
        fw('hc', ['8008'], ['130.211.0.0/22', '35.191.0.0/16']);
        fw('etcd', ['2379-2380'], [g.cidr]);
        if (plan.scrapeSources) fw('metrics', ['9100', '9187'], [...plan.fleetCidrs, ...plan.scrapeCidrs]);
        const byZone: Record<string, ComputeInstance[]> = {};
        for (const m of g.machines) {
          const disk = m.data ? new ComputeDisk(scope, `d-${m.name}`, { provider: google, name: `${m.name}-data`, zone: m.zone, size: g.disk.sizeGiB, type: g.disk.type }) : undefined;
          const instance = new ComputeInstance(scope, `i-${m.name}`, {
            provider: google, name: m.name, zone: m.zone, machineType: m.data ? g.machineType : g.etcdMachineType,
            bootDisk: { initializeParams: { image: 'projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64', size: 30 } },
            attachedDisk: disk ? [{ source: disk.id, deviceName: 'pgdata' }] : undefined,
            networkInterface: [{ subnetwork: gsubnets[g.name].id, networkIp: m.ip }], metadata: { 'user-data': m.userData },
            shieldedInstanceConfig: { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true },
            serviceAccount: { email: sas[g.name].email, scopes: ['cloud-platform'] }, tags: [s], labels: { name: m.name },
          });
          if (m.data) byZone[m.zone] = [...(byZone[m.zone] ?? []), instance];
          record(m.name, m.fqdn, [m.ip]);
        }
        const hc = new ComputeRegionHealthCheck(scope, `hc-${g.name}`, { provider: google, name: `${s}-primary`, region: g.region, httpsHealthCheck: { port: 8008, requestPath: '/primary' }, checkIntervalSec: 5, timeoutSec: 2, healthyThreshold: 3, unhealthyThreshold: 2 });
        const igs = Object.entries(byZone).map(([z, list]) => new ComputeInstanceGroup(scope, `ig-${g.name}-${z}`, { provider: google, name: `${s}-${z}`, zone: z, instances: list.map((i) => i.selfLink) }));
        const bs = new ComputeRegionBackendService(scope, `bs-${g.name}`, { provider: google, name: `${s}-leader`, region: g.region, loadBalancingScheme: 'INTERNAL', protocol: 'TCP', healthChecks: [hc.id], backend: igs.map((ig) => ({ group: ig.id })) });
        const address = new ComputeAddress(scope, `addr-${g.name}`, { provider: google, name: `${s}-leader`, region: g.region, subnetwork: gsubnets[g.name].id, addressType: 'INTERNAL', address: g.lbIps[0] });
        new ComputeForwardingRule(scope, `fr-${g.name}`, { provider: google, name: `${s}-leader`, region: g.region, loadBalancingScheme: 'INTERNAL', backendService: bs.id, ipAddress: address.address, ports: ['5432'], subnetwork: gsubnets[g.name].id, allowGlobalAccess: true });
      }
      record(`${g.name}-endpoint`, g.endpoint, g.lbIps);
    }

    for (const pr of plan.peerings) {
      const a = { provider: aws[pr.requester], region: pr.requester };
      const b = { provider: aws[pr.accepter], region: pr.accepter };
      const pcx = new VpcPeeringConnection(scope, `pcx-${pr.requester}-${pr.accepter}`, { ...a, vpcId: vpcs[pr.requester].vpc.id, peerVpcId: vpcs[pr.accepter].vpc.id, peerRegion: pr.accepter });
      new VpcPeeringConnectionAccepterA(scope, `pcxa-${pr.requester}-${pr.accepter}`, { ...b, vpcPeeringConnectionId: pcx.id, autoAccept: true });
      for (const [from, to, p] of [[pr.requester, pr.accepter, a], [pr.accepter, pr.requester, b]] as const) {
        for (const c of plan.awsVpcs.find((v) => v.region === to)!.cidrs) {
          new Route(scope, `pcr-${from}-${c}`, { ...p, routeTableId: vpcs[from].rt.id, destinationCidrBlock: c, vpcPeeringConnectionId: pcx.id });
        }
      }
    }
    const routers: Record<string, ComputeRouter> = {};
    for (const v of plan.vpns) {
      const p = { provider: aws[v.awsRegion], region: v.awsRegion };
      routers[v.gcpRegion] ??= new ComputeRouter(scope, `vpn-router-${v.gcpRegion}`, { provider: google, name: `${f}-vpn-${v.gcpRegion}`, region: v.gcpRegion, network: network!.id, bgp: { asn: v.gcpAsn } });
      const ha = new ComputeHaVpnGateway(scope, `ha-${v.awsRegion}`, { provider: google, name: `${f}-${v.awsRegion}`, region: v.gcpRegion, network: network!.id });
      const vgw = new VpnGateway(scope, `vgw-${v.awsRegion}`, { ...p, vpcId: vpcs[v.awsRegion].vpc.id, amazonSideAsn: String(v.awsAsn) });
      new VpnGatewayRoutePropagation(scope, `vgwp-${v.awsRegion}`, { ...p, vpnGatewayId: vgw.id, routeTableId: vpcs[v.awsRegion].rt.id });
      const conns = [0, 1].map((c) => {
        const cgw = new CustomerGateway(scope, `cgw-${v.awsRegion}-${c}`, { ...p, bgpAsn: String(v.gcpAsn), ipAddress: ha.vpnInterfaces.get(c).ipAddress, type: 'ipsec.1' });
        const inside = v.tunnels.filter((t) => t.c === c);
        return new VpnConnection(scope, `vpn-${v.awsRegion}-${c}`, { ...p, vpnGatewayId: vgw.id, customerGatewayId: cgw.id, type: 'ipsec.1', tunnel1InsideCidr: inside[0].inside, tunnel2InsideCidr: inside[1].inside, tunnel1IkeVersions: ['ikev2'], tunnel2IkeVersions: ['ikev2'] });
      });
      const ext = new ComputeExternalVpnGateway(scope, `ext-${v.awsRegion}`, { provider: google, name: `${f}-${v.awsRegion}-aws`, redundancyType: 'FOUR_IPS_REDUNDANCY',
        interface: [0, 1, 2, 3].map((i) => ({ id: i, ipAddress: i % 2 === 0 ? conns[i >> 1].tunnel1Address : conns[i >> 1].tunnel2Address })) });
      for (const t of v.tunnels) {
        const k = `${v.awsRegion}-${t.c}-${t.t}`;
        const base = t.inside.split('/')[0].split('.').map(Number);
        const tunnel = new ComputeVpnTunnel(scope, `tun-${k}`, { provider: google, name: `${f}-${k}`, region: v.gcpRegion, vpnGateway: ha.id, vpnGatewayInterface: t.gcpIf, peerExternalGateway: ext.id, peerExternalGatewayInterface: t.c * 2 + t.t - 1, sharedSecret: t.t === 1 ? conns[t.c].tunnel1PresharedKey : conns[t.c].tunnel2PresharedKey, router: routers[v.gcpRegion].id, ikeVersion: 2 });
        const itf = new ComputeRouterInterface(scope, `rif-${k}`, { provider: google, name: `${f}-${k}`, region: v.gcpRegion, router: routers[v.gcpRegion].name, ipRange: `${base.slice(0, 3).join('.')}.${base[3] + 2}/30`, vpnTunnel: tunnel.name });
        new ComputeRouterPeer(scope, `peer-${k}`, { provider: google, name: `${f}-${k}`, region: v.gcpRegion, router: routers[v.gcpRegion].name, interface: itf.name, peerIpAddress: `${base.slice(0, 3).join('.')}.${base[3] + 1}`, peerAsn: v.awsAsn });
      }
    }
  }
}
