//! The API calls the simulator can emit: CloudTrail event names with their event source, the
//! IAM permission they need, whether they are read-only or data events, and how their request
//! parameters look; and the Kubernetes verbs/resources written to the audit log.

/// How a call's `requestParameters` / `responseElements` are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum P {
    Null,
    AssumeRole,
    WebIdentity,
    ListBuckets,
    Bucket,
    BucketPolicy,
    ListObjects,
    Object,
    PutObject,
    Table,
    Item,
    Query,
    BatchWrite,
    Queue,
    SendMessage,
    ReceiveMessage,
    Topic,
    Function,
    Invoke,
    CreateFunction,
    UpdateCode,
    Stack,
    StackEvents,
    CreateChangeSet,
    ChangeSet,
    EcsServices,
    UpdateService,
    RegisterTaskDef,
    TaskDef,
    EcsCluster,
    EcsTasks,
    Secret,
    Param,
    ParamsByPath,
    Kms,
    KmsDataKey,
    LogStream,
    LogGroup,
    Metric,
    MetricQuery,
    Instances,
    Filters,
    RunInstances,
    SecurityGroupIngress,
    KeyPair,
    IamUser,
    IamRole,
    IamList,
    Policy,
    PolicyVersion,
    CreatePolicyVersion,
    AttachUserPolicy,
    AttachRolePolicy,
    PutUserPolicy,
    CreateAccessKey,
    CreateUser,
    UpdateAssumeRolePolicy,
    Model,
    Converse,
    AthenaStart,
    AthenaExec,
    GlueDatabase,
    GlueTable,
    GlueTables,
    GluePartitions,
    GlueBatchPartition,
    GlueJob,
    Asgs,
    SetDesired,
    TargetGroup,
    Repo,
    PutImage,
    EksCluster,
    HostedZone,
    ChangeRecords,
    Instance,
}

pub(crate) const R: u8 = 1;
pub(crate) const D: u8 = 2;
pub(crate) const G: u8 = 4;

#[derive(Debug)]
pub(crate) struct Api {
    /// Service prefix of the event source (`s3` for `s3.amazonaws.com`).
    pub svc: &'static str,
    pub source: &'static str,
    pub name: &'static str,
    /// The IAM permission the call needs (`s3:ListBucket` for `ListObjects`).
    pub perm: &'static str,
    pub flags: u8,
    pub p: P,
}

impl Api {
    pub(crate) fn read_only(&self) -> bool {
        self.flags & R != 0
    }
    pub(crate) fn data(&self) -> bool {
        self.flags & D != 0
    }
    pub(crate) fn global(&self) -> bool {
        self.flags & G != 0
    }
}

macro_rules! api {
    ($svc:literal, $name:literal, $perm:literal, $flags:expr, $p:ident) => {
        Api {
            svc: $svc,
            source: concat!($svc, ".amazonaws.com"),
            name: $name,
            perm: $perm,
            flags: $flags,
            p: P::$p,
        }
    };
}

pub(crate) static APIS: &[Api] = &[
    // STS
    api!("sts", "GetCallerIdentity", "sts:GetCallerIdentity", R, Null),
    api!("sts", "AssumeRole", "sts:AssumeRole", R, AssumeRole),
    api!(
        "sts",
        "AssumeRoleWithWebIdentity",
        "sts:AssumeRoleWithWebIdentity",
        R,
        WebIdentity
    ),
    api!("sts", "GetSessionToken", "sts:GetSessionToken", R, Null),
    // IAM (global)
    api!("iam", "ListUsers", "iam:ListUsers", R | G, IamList),
    api!("iam", "ListRoles", "iam:ListRoles", R | G, IamList),
    api!("iam", "ListPolicies", "iam:ListPolicies", R | G, IamList),
    api!("iam", "ListGroups", "iam:ListGroups", R | G, IamList),
    api!("iam", "GetUser", "iam:GetUser", R | G, IamUser),
    api!("iam", "GetRole", "iam:GetRole", R | G, IamRole),
    api!("iam", "GetPolicy", "iam:GetPolicy", R | G, Policy),
    api!(
        "iam",
        "GetPolicyVersion",
        "iam:GetPolicyVersion",
        R | G,
        PolicyVersion
    ),
    api!(
        "iam",
        "ListAttachedUserPolicies",
        "iam:ListAttachedUserPolicies",
        R | G,
        IamUser
    ),
    api!(
        "iam",
        "ListAttachedRolePolicies",
        "iam:ListAttachedRolePolicies",
        R | G,
        IamRole
    ),
    api!(
        "iam",
        "ListUserPolicies",
        "iam:ListUserPolicies",
        R | G,
        IamUser
    ),
    api!(
        "iam",
        "ListRolePolicies",
        "iam:ListRolePolicies",
        R | G,
        IamRole
    ),
    api!(
        "iam",
        "ListAccessKeys",
        "iam:ListAccessKeys",
        R | G,
        IamUser
    ),
    api!(
        "iam",
        "ListGroupsForUser",
        "iam:ListGroupsForUser",
        R | G,
        IamUser
    ),
    api!(
        "iam",
        "GetAccountAuthorizationDetails",
        "iam:GetAccountAuthorizationDetails",
        R | G,
        IamList
    ),
    api!(
        "iam",
        "ListInstanceProfiles",
        "iam:ListInstanceProfiles",
        R | G,
        IamList
    ),
    api!(
        "iam",
        "GetAccountSummary",
        "iam:GetAccountSummary",
        R | G,
        Null
    ),
    api!(
        "iam",
        "ListMFADevices",
        "iam:ListMFADevices",
        R | G,
        IamUser
    ),
    api!(
        "iam",
        "ListAccountAliases",
        "iam:ListAccountAliases",
        R | G,
        Null
    ),
    api!(
        "iam",
        "CreatePolicyVersion",
        "iam:CreatePolicyVersion",
        G,
        CreatePolicyVersion
    ),
    api!(
        "iam",
        "AttachUserPolicy",
        "iam:AttachUserPolicy",
        G,
        AttachUserPolicy
    ),
    api!(
        "iam",
        "AttachRolePolicy",
        "iam:AttachRolePolicy",
        G,
        AttachRolePolicy
    ),
    api!(
        "iam",
        "PutUserPolicy",
        "iam:PutUserPolicy",
        G,
        PutUserPolicy
    ),
    api!(
        "iam",
        "CreateAccessKey",
        "iam:CreateAccessKey",
        G,
        CreateAccessKey
    ),
    api!("iam", "CreateUser", "iam:CreateUser", G, CreateUser),
    api!(
        "iam",
        "CreateLoginProfile",
        "iam:CreateLoginProfile",
        G,
        IamUser
    ),
    api!(
        "iam",
        "UpdateAssumeRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        G,
        UpdateAssumeRolePolicy
    ),
    api!("iam", "TagRole", "iam:TagRole", G, IamRole),
    // S3
    api!("s3", "ListBuckets", "s3:ListAllMyBuckets", R, ListBuckets),
    api!("s3", "GetBucketLocation", "s3:GetBucketLocation", R, Bucket),
    api!("s3", "GetBucketPolicy", "s3:GetBucketPolicy", R, Bucket),
    api!("s3", "GetBucketAcl", "s3:GetBucketAcl", R, Bucket),
    api!(
        "s3",
        "GetBucketVersioning",
        "s3:GetBucketVersioning",
        R,
        Bucket
    ),
    api!(
        "s3",
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        R,
        Bucket
    ),
    api!(
        "s3",
        "GetBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        R,
        Bucket
    ),
    api!(
        "s3",
        "PutBucketPolicy",
        "s3:PutBucketPolicy",
        0,
        BucketPolicy
    ),
    api!("s3", "ListObjects", "s3:ListBucket", R | D, ListObjects),
    api!("s3", "GetObject", "s3:GetObject", R | D, Object),
    api!("s3", "HeadObject", "s3:GetObject", R | D, Object),
    api!("s3", "PutObject", "s3:PutObject", D, PutObject),
    api!("s3", "DeleteObject", "s3:DeleteObject", D, Object),
    // EC2
    api!(
        "ec2",
        "DescribeInstances",
        "ec2:DescribeInstances",
        R,
        Instances
    ),
    api!("ec2", "DescribeRegions", "ec2:DescribeRegions", R, Filters),
    api!(
        "ec2",
        "DescribeSecurityGroups",
        "ec2:DescribeSecurityGroups",
        R,
        Filters
    ),
    api!("ec2", "DescribeVpcs", "ec2:DescribeVpcs", R, Filters),
    api!("ec2", "DescribeSubnets", "ec2:DescribeSubnets", R, Filters),
    api!("ec2", "DescribeImages", "ec2:DescribeImages", R, Filters),
    api!("ec2", "DescribeVolumes", "ec2:DescribeVolumes", R, Filters),
    api!(
        "ec2",
        "DescribeSnapshots",
        "ec2:DescribeSnapshots",
        R,
        Filters
    ),
    api!("ec2", "DescribeTags", "ec2:DescribeTags", R, Instance),
    api!(
        "ec2",
        "DescribeKeyPairs",
        "ec2:DescribeKeyPairs",
        R,
        Filters
    ),
    api!(
        "ec2",
        "DescribeNetworkInterfaces",
        "ec2:DescribeNetworkInterfaces",
        R,
        Filters
    ),
    api!(
        "ec2",
        "DescribeAvailabilityZones",
        "ec2:DescribeAvailabilityZones",
        R,
        Filters
    ),
    api!(
        "ec2",
        "DescribeLaunchTemplates",
        "ec2:DescribeLaunchTemplates",
        R,
        Filters
    ),
    api!(
        "ec2",
        "DescribeInstanceTypes",
        "ec2:DescribeInstanceTypes",
        R,
        Filters
    ),
    api!(
        "ec2",
        "DescribeAddresses",
        "ec2:DescribeAddresses",
        R,
        Filters
    ),
    api!("ec2", "RunInstances", "ec2:RunInstances", 0, RunInstances),
    api!("ec2", "CreateKeyPair", "ec2:CreateKeyPair", 0, KeyPair),
    api!(
        "ec2",
        "AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupIngress",
        0,
        SecurityGroupIngress
    ),
    api!("ec2", "CreateTags", "ec2:CreateTags", 0, Instance),
    // CloudFormation
    api!(
        "cloudformation",
        "DescribeStacks",
        "cloudformation:DescribeStacks",
        R,
        Stack
    ),
    api!(
        "cloudformation",
        "DescribeStackEvents",
        "cloudformation:DescribeStackEvents",
        R,
        StackEvents
    ),
    api!(
        "cloudformation",
        "DescribeStackResources",
        "cloudformation:DescribeStackResources",
        R,
        Stack
    ),
    api!(
        "cloudformation",
        "ListStacks",
        "cloudformation:ListStacks",
        R,
        Null
    ),
    api!(
        "cloudformation",
        "GetTemplate",
        "cloudformation:GetTemplate",
        R,
        Stack
    ),
    api!(
        "cloudformation",
        "ValidateTemplate",
        "cloudformation:ValidateTemplate",
        R,
        Null
    ),
    api!(
        "cloudformation",
        "DescribeChangeSet",
        "cloudformation:DescribeChangeSet",
        R,
        ChangeSet
    ),
    api!(
        "cloudformation",
        "CreateChangeSet",
        "cloudformation:CreateChangeSet",
        0,
        CreateChangeSet
    ),
    api!(
        "cloudformation",
        "ExecuteChangeSet",
        "cloudformation:ExecuteChangeSet",
        0,
        ChangeSet
    ),
    api!(
        "cloudformation",
        "UpdateStack",
        "cloudformation:UpdateStack",
        0,
        Stack
    ),
    // ECS / ECR
    api!(
        "ecs",
        "DescribeServices",
        "ecs:DescribeServices",
        R,
        EcsServices
    ),
    api!(
        "ecs",
        "DescribeClusters",
        "ecs:DescribeClusters",
        R,
        EcsCluster
    ),
    api!("ecs", "ListClusters", "ecs:ListClusters", R, Null),
    api!("ecs", "ListServices", "ecs:ListServices", R, EcsCluster),
    api!("ecs", "ListTasks", "ecs:ListTasks", R, EcsCluster),
    api!("ecs", "DescribeTasks", "ecs:DescribeTasks", R, EcsTasks),
    api!(
        "ecs",
        "DescribeTaskDefinition",
        "ecs:DescribeTaskDefinition",
        R,
        TaskDef
    ),
    api!(
        "ecs",
        "RegisterTaskDefinition",
        "ecs:RegisterTaskDefinition",
        0,
        RegisterTaskDef
    ),
    api!(
        "ecs",
        "UpdateService",
        "ecs:UpdateService",
        0,
        UpdateService
    ),
    api!(
        "ecr",
        "GetAuthorizationToken",
        "ecr:GetAuthorizationToken",
        R,
        Null
    ),
    api!(
        "ecr",
        "DescribeRepositories",
        "ecr:DescribeRepositories",
        R,
        Null
    ),
    api!("ecr", "DescribeImages", "ecr:DescribeImages", R, Repo),
    api!("ecr", "BatchGetImage", "ecr:BatchGetImage", R, Repo),
    api!(
        "ecr",
        "InitiateLayerUpload",
        "ecr:InitiateLayerUpload",
        0,
        Repo
    ),
    api!(
        "ecr",
        "CompleteLayerUpload",
        "ecr:CompleteLayerUpload",
        0,
        Repo
    ),
    api!("ecr", "PutImage", "ecr:PutImage", 0, PutImage),
    // Lambda
    api!(
        "lambda",
        "ListFunctions20150331",
        "lambda:ListFunctions",
        R,
        Null
    ),
    api!(
        "lambda",
        "GetFunction20150331v2",
        "lambda:GetFunction",
        R,
        Function
    ),
    api!(
        "lambda",
        "CreateFunction20150331",
        "lambda:CreateFunction",
        0,
        CreateFunction
    ),
    api!(
        "lambda",
        "UpdateFunctionCode20150331v2",
        "lambda:UpdateFunctionCode",
        0,
        UpdateCode
    ),
    api!(
        "lambda",
        "UpdateFunctionConfiguration20150331v2",
        "lambda:UpdateFunctionConfiguration",
        0,
        Function
    ),
    api!(
        "lambda",
        "AddPermission20150331v2",
        "lambda:AddPermission",
        0,
        Function
    ),
    api!("lambda", "Invoke", "lambda:InvokeFunction", D, Invoke),
    // DynamoDB
    api!("dynamodb", "GetItem", "dynamodb:GetItem", R | D, Item),
    api!("dynamodb", "Query", "dynamodb:Query", R | D, Query),
    api!("dynamodb", "Scan", "dynamodb:Scan", R | D, Table),
    api!("dynamodb", "PutItem", "dynamodb:PutItem", D, Item),
    api!("dynamodb", "UpdateItem", "dynamodb:UpdateItem", D, Item),
    api!(
        "dynamodb",
        "BatchWriteItem",
        "dynamodb:BatchWriteItem",
        D,
        BatchWrite
    ),
    api!(
        "dynamodb",
        "DescribeTable",
        "dynamodb:DescribeTable",
        R,
        Table
    ),
    api!("dynamodb", "ListTables", "dynamodb:ListTables", R, Null),
    // SQS / SNS
    api!("sqs", "SendMessage", "sqs:SendMessage", D, SendMessage),
    api!(
        "sqs",
        "ReceiveMessage",
        "sqs:ReceiveMessage",
        D,
        ReceiveMessage
    ),
    api!("sqs", "DeleteMessage", "sqs:DeleteMessage", D, Queue),
    api!(
        "sqs",
        "GetQueueAttributes",
        "sqs:GetQueueAttributes",
        R,
        Queue
    ),
    api!("sqs", "ListQueues", "sqs:ListQueues", R, Null),
    api!("sns", "Publish", "sns:Publish", D, Topic),
    api!("sns", "ListTopics", "sns:ListTopics", R, Null),
    // KMS / Secrets / SSM
    api!("kms", "Decrypt", "kms:Decrypt", R, Kms),
    api!("kms", "Encrypt", "kms:Encrypt", R, Kms),
    api!(
        "kms",
        "GenerateDataKey",
        "kms:GenerateDataKey",
        R,
        KmsDataKey
    ),
    api!("kms", "DescribeKey", "kms:DescribeKey", R, Kms),
    api!("kms", "ListKeys", "kms:ListKeys", R, Null),
    api!("kms", "ListAliases", "kms:ListAliases", R, Null),
    api!(
        "secretsmanager",
        "GetSecretValue",
        "secretsmanager:GetSecretValue",
        R,
        Secret
    ),
    api!(
        "secretsmanager",
        "DescribeSecret",
        "secretsmanager:DescribeSecret",
        R,
        Secret
    ),
    api!(
        "secretsmanager",
        "ListSecrets",
        "secretsmanager:ListSecrets",
        R,
        Null
    ),
    api!("ssm", "GetParameter", "ssm:GetParameter", R, Param),
    api!(
        "ssm",
        "GetParametersByPath",
        "ssm:GetParametersByPath",
        R,
        ParamsByPath
    ),
    api!(
        "ssm",
        "DescribeParameters",
        "ssm:DescribeParameters",
        R,
        Null
    ),
    api!(
        "ssm",
        "UpdateInstanceInformation",
        "ssm:UpdateInstanceInformation",
        0,
        Instance
    ),
    api!(
        "ssm",
        "DescribeInstanceInformation",
        "ssm:DescribeInstanceInformation",
        R,
        Null
    ),
    // CloudWatch Logs / CloudWatch
    api!(
        "logs",
        "CreateLogStream",
        "logs:CreateLogStream",
        0,
        LogStream
    ),
    api!(
        "logs",
        "DescribeLogGroups",
        "logs:DescribeLogGroups",
        R,
        Null
    ),
    api!(
        "logs",
        "DescribeLogStreams",
        "logs:DescribeLogStreams",
        R,
        LogGroup
    ),
    api!("logs", "CreateLogGroup", "logs:CreateLogGroup", 0, LogGroup),
    api!(
        "logs",
        "FilterLogEvents",
        "logs:FilterLogEvents",
        R,
        LogGroup
    ),
    api!(
        "monitoring",
        "PutMetricData",
        "cloudwatch:PutMetricData",
        D,
        Metric
    ),
    api!(
        "monitoring",
        "GetMetricData",
        "cloudwatch:GetMetricData",
        R | D,
        MetricQuery
    ),
    api!(
        "monitoring",
        "ListMetrics",
        "cloudwatch:ListMetrics",
        R | D,
        Metric
    ),
    api!(
        "monitoring",
        "DescribeAlarms",
        "cloudwatch:DescribeAlarms",
        R,
        Null
    ),
    // Glue / Athena
    api!("glue", "GetDatabase", "glue:GetDatabase", R, GlueDatabase),
    api!("glue", "GetDatabases", "glue:GetDatabases", R, Null),
    api!("glue", "GetTable", "glue:GetTable", R, GlueTable),
    api!("glue", "GetTables", "glue:GetTables", R, GlueTables),
    api!(
        "glue",
        "GetPartitions",
        "glue:GetPartitions",
        R,
        GluePartitions
    ),
    api!(
        "glue",
        "BatchCreatePartition",
        "glue:BatchCreatePartition",
        0,
        GlueBatchPartition
    ),
    api!("glue", "StartJobRun", "glue:StartJobRun", 0, GlueJob),
    api!("glue", "GetJobRun", "glue:GetJobRun", R, GlueJob),
    api!(
        "athena",
        "StartQueryExecution",
        "athena:StartQueryExecution",
        0,
        AthenaStart
    ),
    api!(
        "athena",
        "GetQueryExecution",
        "athena:GetQueryExecution",
        R,
        AthenaExec
    ),
    api!(
        "athena",
        "GetQueryResults",
        "athena:GetQueryResults",
        R,
        AthenaExec
    ),
    // Bedrock
    api!("bedrock", "InvokeModel", "bedrock:InvokeModel", R, Model),
    api!(
        "bedrock",
        "InvokeModelWithResponseStream",
        "bedrock:InvokeModelWithResponseStream",
        R,
        Model
    ),
    api!("bedrock", "Converse", "bedrock:InvokeModel", R, Converse),
    api!(
        "bedrock",
        "ListFoundationModels",
        "bedrock:ListFoundationModels",
        R,
        Null
    ),
    // Auto Scaling / ELB / Route 53 / RDS
    api!(
        "autoscaling",
        "DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingGroups",
        R,
        Asgs
    ),
    api!(
        "autoscaling",
        "DescribeScalingActivities",
        "autoscaling:DescribeScalingActivities",
        R,
        Asgs
    ),
    api!(
        "autoscaling",
        "SetDesiredCapacity",
        "autoscaling:SetDesiredCapacity",
        0,
        SetDesired
    ),
    api!(
        "elasticloadbalancing",
        "DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroups",
        R,
        Null
    ),
    api!(
        "elasticloadbalancing",
        "DescribeTargetHealth",
        "elasticloadbalancing:DescribeTargetHealth",
        R,
        TargetGroup
    ),
    api!(
        "elasticloadbalancing",
        "DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancers",
        R,
        Null
    ),
    api!(
        "route53",
        "ListHostedZones",
        "route53:ListHostedZones",
        R | G,
        Null
    ),
    api!(
        "route53",
        "ListResourceRecordSets",
        "route53:ListResourceRecordSets",
        R | G,
        HostedZone
    ),
    api!(
        "route53",
        "ChangeResourceRecordSets",
        "route53:ChangeResourceRecordSets",
        G,
        ChangeRecords
    ),
    api!(
        "rds",
        "DescribeDBInstances",
        "rds:DescribeDBInstances",
        R,
        Null
    ),
    api!(
        "rds",
        "DescribeDBClusters",
        "rds:DescribeDBClusters",
        R,
        Null
    ),
    api!(
        "rds",
        "DescribeDBSnapshots",
        "rds:DescribeDBSnapshots",
        R,
        Null
    ),
    // Governance and discovery
    api!(
        "organizations",
        "DescribeOrganization",
        "organizations:DescribeOrganization",
        R | G,
        Null
    ),
    api!(
        "organizations",
        "ListAccounts",
        "organizations:ListAccounts",
        R | G,
        Null
    ),
    api!(
        "cloudtrail",
        "DescribeTrails",
        "cloudtrail:DescribeTrails",
        R,
        Null
    ),
    api!(
        "cloudtrail",
        "GetTrailStatus",
        "cloudtrail:GetTrailStatus",
        R,
        Null
    ),
    api!(
        "cloudtrail",
        "LookupEvents",
        "cloudtrail:LookupEvents",
        R,
        Null
    ),
    api!("eks", "ListClusters", "eks:ListClusters", R, Null),
    api!(
        "eks",
        "DescribeCluster",
        "eks:DescribeCluster",
        R,
        EksCluster
    ),
    api!(
        "guardduty",
        "ListDetectors",
        "guardduty:ListDetectors",
        R,
        Null
    ),
    api!("tagging", "GetResources", "tag:GetResources", R, Null),
    api!(
        "health",
        "DescribeEvents",
        "health:DescribeEvents",
        R | G,
        Null
    ),
    api!(
        "config",
        "DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorders",
        R,
        Null
    ),
];

/// Looks a call up by `<event source prefix>:<eventName>` (`monitoring:PutMetricData`).
pub(crate) fn find(key: &str) -> Option<u16> {
    let (svc, name) = key.split_once(':')?;
    APIS.iter()
        .position(|a| a.svc == svc && a.name == name)
        .and_then(|p| u16::try_from(p).ok())
}

pub(crate) fn get(idx: u16) -> Option<&'static Api> {
    APIS.get(usize::from(idx))
}

/// One Kubernetes API operation as the audit log records it.
#[derive(Debug)]
pub(crate) struct K8sApi {
    pub verb: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    /// API group ("" for the core group).
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    /// Whether the request names one object (get/update/patch/delete, subresources).
    pub named: bool,
}

macro_rules! k8s {
    ($verb:literal, $res:literal, $sub:literal, $group:literal, $ver:literal, $ns:literal, $named:literal) => {
        K8sApi {
            verb: $verb,
            resource: $res,
            subresource: $sub,
            group: $group,
            version: $ver,
            namespaced: $ns,
            named: $named,
        }
    };
}

pub(crate) static K8S_APIS: &[K8sApi] = &[
    k8s!("list", "pods", "", "", "v1", true, false),
    k8s!("watch", "pods", "", "", "v1", true, false),
    k8s!("get", "pods", "", "", "v1", true, true),
    k8s!("list", "pods", "", "", "v1", false, false),
    k8s!("watch", "pods", "", "", "v1", false, false),
    k8s!("create", "pods", "exec", "", "v1", true, true),
    k8s!("get", "pods", "log", "", "v1", true, true),
    k8s!("delete", "pods", "", "", "v1", true, true),
    k8s!("list", "services", "", "", "v1", false, false),
    k8s!("watch", "services", "", "", "v1", false, false),
    k8s!("list", "endpoints", "", "", "v1", false, false),
    k8s!("watch", "endpoints", "", "", "v1", false, false),
    k8s!("list", "nodes", "", "", "v1", false, false),
    k8s!("watch", "nodes", "", "", "v1", false, false),
    k8s!("get", "nodes", "", "", "v1", false, true),
    k8s!("list", "namespaces", "", "", "v1", false, false),
    k8s!("get", "configmaps", "", "", "v1", true, true),
    k8s!("list", "configmaps", "", "", "v1", true, false),
    k8s!("watch", "configmaps", "", "", "v1", true, false),
    k8s!("update", "configmaps", "", "", "v1", true, true),
    k8s!("get", "secrets", "", "", "v1", true, true),
    k8s!("list", "secrets", "", "", "v1", true, false),
    k8s!("list", "secrets", "", "", "v1", false, false),
    k8s!("watch", "secrets", "", "", "v1", true, false),
    k8s!("create", "secrets", "", "", "v1", true, false),
    k8s!("update", "secrets", "", "", "v1", true, true),
    k8s!("create", "events", "", "", "v1", true, false),
    k8s!("get", "serviceaccounts", "", "", "v1", true, true),
    k8s!("create", "serviceaccounts", "token", "", "v1", true, true),
    k8s!("get", "leases", "", "coordination.k8s.io", "v1", true, true),
    k8s!(
        "update",
        "leases",
        "",
        "coordination.k8s.io",
        "v1",
        true,
        true
    ),
    k8s!("get", "deployments", "", "apps", "v1", true, true),
    k8s!("list", "deployments", "", "apps", "v1", false, false),
    k8s!("watch", "deployments", "", "apps", "v1", false, false),
    k8s!("patch", "deployments", "", "apps", "v1", true, true),
    k8s!("list", "replicasets", "", "apps", "v1", true, false),
    k8s!(
        "list",
        "ingresses",
        "",
        "networking.k8s.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "watch",
        "ingresses",
        "",
        "networking.k8s.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "list",
        "endpointslices",
        "",
        "discovery.k8s.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "watch",
        "endpointslices",
        "",
        "discovery.k8s.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "list",
        "certificates",
        "",
        "cert-manager.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "watch",
        "certificates",
        "",
        "cert-manager.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "update",
        "certificates",
        "status",
        "cert-manager.io",
        "v1",
        true,
        true
    ),
    k8s!(
        "list",
        "applications",
        "",
        "argoproj.io",
        "v1alpha1",
        true,
        false
    ),
    k8s!(
        "watch",
        "applications",
        "",
        "argoproj.io",
        "v1alpha1",
        true,
        false
    ),
    k8s!(
        "patch",
        "applications",
        "",
        "argoproj.io",
        "v1alpha1",
        true,
        true
    ),
    k8s!(
        "list",
        "clusterrolebindings",
        "",
        "rbac.authorization.k8s.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "create",
        "clusterrolebindings",
        "",
        "rbac.authorization.k8s.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "create",
        "selfsubjectrulesreviews",
        "",
        "authorization.k8s.io",
        "v1",
        false,
        false
    ),
    k8s!(
        "create",
        "tokenreviews",
        "",
        "authentication.k8s.io",
        "v1",
        false,
        false
    ),
];

/// Looks a Kubernetes operation up by `verb:resource[/subresource][@cluster]`; `@cluster` selects
/// the cluster-wide form of list/watch on namespaced resources.
pub(crate) fn find_k8s(key: &str) -> Option<u16> {
    let (verb, rest) = key.split_once(':')?;
    let (rest, cluster) = match rest.strip_suffix("@cluster") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (res, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let find = |namespaced: bool| {
        K8S_APIS
            .iter()
            .position(|a| {
                a.verb == verb
                    && a.resource == res
                    && a.subresource == sub
                    && a.namespaced == namespaced
            })
            .and_then(|p| u16::try_from(p).ok())
    };
    if cluster {
        find(false)
    } else {
        find(true).or_else(|| find(false))
    }
}

pub(crate) fn get_k8s(idx: u16) -> Option<&'static K8sApi> {
    K8S_APIS.get(usize::from(idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_resolve() {
        assert!(find("s3:GetObject").is_some());
        assert!(find("monitoring:PutMetricData").is_some());
        assert!(find("s3:Nope").is_none());
        let a = get_k8s(find_k8s("list:pods").unwrap()).unwrap();
        assert!(a.namespaced);
        let a = get_k8s(find_k8s("list:pods@cluster").unwrap()).unwrap();
        assert!(!a.namespaced);
        let a = get_k8s(find_k8s("list:nodes").unwrap()).unwrap();
        assert!(!a.namespaced);
        let a = get_k8s(find_k8s("create:pods/exec").unwrap()).unwrap();
        assert_eq!(a.subresource, "exec");
    }

    #[test]
    fn event_names_are_unique_per_source() {
        for (i, a) in APIS.iter().enumerate() {
            for b in APIS.iter().skip(i + 1) {
                assert!(
                    !(a.svc == b.svc && a.name == b.name),
                    "{}:{}",
                    a.svc,
                    a.name
                );
            }
        }
    }
}
