{{/*
Helpers of the eks-complete chart. Every user string is written with toJson, which YAML reads
back exactly (quotes, colons, '#', newlines, and words like yes/on/0123 included).
*/}}

{{/* Labels on every Kubernetes object of the chart. */}}
{{- define "eks-complete.labels" -}}
app.kubernetes.io/managed-by: eksgen
app.kubernetes.io/part-of: eks-complete
{{- end }}

{{/* The ARN partition of the cluster's region. */}}
{{- define "eks-complete.partition" -}}
{{- if hasPrefix "cn-" .Values.awsRegion -}}aws-cn
{{- else if hasPrefix "us-gov-" .Values.awsRegion -}}aws-us-gov
{{- else -}}aws
{{- end -}}
{{- end }}

{{/* The IAM role of Karpenter's nodes, created by Karpenter's CloudFormation stack. */}}
{{- define "eks-complete.nodeRoleName" -}}
{{- printf "KarpenterNodeRole-%s" .Values.clusterName -}}
{{- end }}

{{/* The IAM role eksctl creates for the Karpenter controller's pod identity. */}}
{{- define "eks-complete.controllerRoleName" -}}
{{- printf "%s-karpenter" .Values.clusterName -}}
{{- end }}

{{/*
Name prefixes of the IAM managed policies that Karpenter's CloudFormation template creates for
the controller, per pinned Karpenter release: karpenter-releases.json, which eksgen writes from
its table of releases (generator/versions.py).
*/}}
{{- define "eks-complete.controllerPolicies" -}}
{{- $byVersion := .Files.Get "karpenter-releases.json" | fromJson -}}
{{- $policies := get (get $byVersion .Values.karpenter.version | default dict) "controllerPolicies" -}}
{{- if not $policies -}}
{{- fail (printf "karpenter.version %q: no controller policies known for this release" .Values.karpenter.version) -}}
{{- end -}}
{{- toJson $policies -}}
{{- end }}

{{/* Every AWS tag of the cluster as YAML map entries: the discovery tag plus the user's tags. */}}
{{- define "eks-complete.awsTags" -}}
{{ "karpenter.sh/discovery" | toJson }}: {{ .Values.clusterName | toJson }}
{{- range $key, $value := .Values.tags }}
{{ $key | toJson }}: {{ $value | toJson }}
{{- end }}
{{- end }}

{{/* The user's tags alone, or {} when there are none. */}}
{{- define "eks-complete.userTags" -}}
{{- if .Values.tags -}}
{{- range $key, $value := .Values.tags }}
{{ $key | toJson }}: {{ $value | toJson }}
{{- end }}
{{- else -}}
{}
{{- end -}}
{{- end }}

{{/*
The pod identity EKS recommends for an add-on (`aws eks describe-addon-configuration`'s
podIdentityConfiguration), for the add-ons whose association the chart writes out with the
permissions boundary: {"serviceAccountName": ..., "policies": [...]}, or {} for any other.
*/}}
{{- define "eks-complete.addonIdentity" -}}
{{- if eq .name "aws-ebs-csi-driver" -}}
{{- dict "serviceAccountName" "ebs-csi-controller-sa" "policies" (list (printf "arn:%s:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" .partition)) | toJson -}}
{{- else -}}
{}
{{- end -}}
{{- end }}
