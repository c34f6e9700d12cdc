{{/* Names and labels of the chart's objects, made in one place. */}}

{{- define "dask-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dask-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "dask-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dask-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dask-kubernetes
{{- end -}}

{{- define "dask-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dask-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dask-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dask-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dask-operator.image" -}}
{{- printf "%s:%s" .Values.image.name (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Argo CD applies objects wave by wave: CRDs, then RBAC, then workloads. */}}
{{- define "dask-operator.crdAnnotations" -}}
argocd.argoproj.io/sync-wave: "-10"
{{- if .Values.crds.keep }}
helm.sh/resource-policy: keep
{{- end }}
{{- end -}}

{{/* The admission webhook: its own names and labels, so no selector of the operator matches its Pods. */}}
{{- define "dask-operator.webhook.fullname" -}}
{{- printf "%s-webhook" (include "dask-operator.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{- define "dask-operator.webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-webhook" (include "dask-operator.name" . | trunc 55 | trimSuffix "-") }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "dask-operator.webhook.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dask-operator.webhook.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dask-kubernetes
{{- end -}}

{{- define "dask-operator.webhook.serviceAccountName" -}}
{{- if .Values.webhook.serviceAccount.create -}}
{{- default (include "dask-operator.webhook.fullname" .) .Values.webhook.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.webhook.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Both webhook configurations share this name; the webhook patches their caBundle by it. */}}
{{- define "dask-operator.webhook.configurationName" -}}
{{- include "dask-operator.webhook.fullname" . -}}
{{- end -}}

{{/* The self-managed CA the webhook keeps (without cert-manager). */}}
{{- define "dask-operator.webhook.caSecretName" -}}
{{- printf "%s-ca" (include "dask-operator.webhook.fullname" .) -}}
{{- end -}}

{{/* The serving certificate cert-manager issues (with cert-manager). */}}
{{- define "dask-operator.webhook.tlsSecretName" -}}
{{- printf "%s-tls" (include "dask-operator.webhook.fullname" .) -}}
{{- end -}}

{{/*
Which namespaces the API server sends to the webhook: never its own (a broken webhook
must not lock its own namespace) nor the listed ones, and none carrying the opt-out label.
*/}}
{{- define "dask-operator.webhook.namespaceSelector" -}}
{{- $sel := .Values.webhook.namespaceSelector -}}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- range prepend $sel.excludeNamespaces .Release.Namespace | uniq }}
      - {{ . | quote }}
      {{- end }}
  - key: {{ $sel.optOutLabel.key | quote }}
    operator: NotIn
    values:
      - {{ $sel.optOutLabel.value | quote }}
  {{- with $sel.matchExpressions }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* The four custom resources, on create and update of the main resource only. */}}
{{- define "dask-operator.webhook.rules" -}}
- apiGroups: ["kubernetes.dask.org"]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
  resources: ["daskclusters", "daskworkergroups", "daskjobs", "daskautoscalers"]
  scope: Namespaced
{{- end -}}

{{/*
Skip updates that leave spec and Kueue's two labels alone (finalizers, other labels,
annotations: the operator's own bookkeeping among them).  Nothing else the webhook
checks or defaults lives outside spec on update, and so a webhook that is down never
blocks the deletion of a resource.  The Kueue labels are checked on update: the queue
may not change while the object runs (docs/queues.md).
*/}}
{{- define "dask-operator.webhook.matchConditions" -}}
- name: spec-or-kueue-labels-changed
  expression: "request.operation == 'CREATE' || !has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec || ['kueue.x-k8s.io/queue-name', 'kueue.x-k8s.io/priority-class'].exists(k, (has(object.metadata.labels) && k in object.metadata.labels ? object.metadata.labels[k] : '') != (has(oldObject.metadata.labels) && k in oldObject.metadata.labels ? oldObject.metadata.labels[k] : ''))"
{{- end -}}
