{{/*
Helpers of the weave-net chart. The objects mirror charts/generator/manifest.cc, which is the
source of truth; charts/tests holds the two to the same output for every value.
*/}}

{{/* Every object's name, and the pods' label (the spec's commands select on name=weave-net). */}}
{{- define "weave-net.name" -}}weave-net{{- end -}}

{{/* weaver keeps its peer list in ConfigMap kube-system/weave-net, so everything lives there. */}}
{{- define "weave-net.namespace" -}}kube-system{{- end -}}

{{- define "weave-net.metadata" -}}
name: {{ include "weave-net.name" .root }}
{{- if .namespaced }}
namespace: {{ include "weave-net.namespace" .root }}
{{- end }}
labels:
  name: {{ include "weave-net.name" .root }}
{{- end -}}

{{- define "weave-net.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{ printf "%s/%s:%s" .root.Values.image.registry .repository $tag }}
{{- end -}}

{{/*
The weave container's environment (charts/generator/manifest.h): the entries of .Values.env
first, in order, then the manifest's own variables and the spec's defaults not given there.
Fails on what the generator answers 400 to.
*/}}
{{- define "weave-net.routerEnv" -}}
{{- $given := dict -}}
{{- $env := list -}}
{{- range .Values.env -}}
  {{- if has .name (list "HOSTNAME" "INIT_CONTAINER" "HOST_ROOT") -}}
    {{- fail (printf "env: %s is set by the chart itself and cannot be changed" .name) -}}
  {{- end -}}
  {{- if hasKey $given .name -}}
    {{- fail (printf "env: %s is given twice" .name) -}}
  {{- end -}}
  {{- $_ := set $given .name .value -}}
  {{- $env = append $env (dict "name" .name "value" .value) -}}
{{- end -}}
{{- range $pair := list (list "knownPeers" .Values.knownPeers "KUBE_PEERS") (list "trustedSubnets" .Values.trustedSubnets "WEAVE_TRUSTED_SUBNETS") (list "passwordSecret" .Values.passwordSecret "WEAVE_PASSWORD") -}}
  {{- if and (index $pair 1) (hasKey $given (index $pair 2)) -}}
    {{- fail (printf "%s and env %s set the same variable: give one of them" (index $pair 0) (index $pair 2)) -}}
  {{- end -}}
{{- end -}}
{{- if and .Values.disableNpc (hasKey $given "EXPECT_NPC") -}}
  {{- if not (has (lower (get $given "EXPECT_NPC")) (list "0" "false" "no" "off")) -}}
    {{- fail (printf "disableNpc=true and env EXPECT_NPC=%s contradict each other: without weave-npc the router must not wait for it" (get $given "EXPECT_NPC")) -}}
  {{- end -}}
{{- end -}}
{{- $defaults := list
      (dict "name" "HOSTNAME" "valueFrom" (dict "fieldRef" (dict "apiVersion" "v1" "fieldPath" "spec.nodeName")))
      (dict "name" "INIT_CONTAINER" "value" "true")
      (dict "name" "HOST_ROOT" "value" "/host")
      (dict "name" "CONN_LIMIT" "value" "30")
      (dict "name" "EXPECT_NPC" "value" (ternary "0" "1" .Values.disableNpc))
      (dict "name" "HAIRPIN_MODE" "value" "true")
      (dict "name" "IPALLOC_RANGE" "value" "10.32.0.0/12")
      (dict "name" "NO_MASQ_LOCAL" "value" "1")
      (dict "name" "WEAVE_METRICS_ADDR" "value" "0.0.0.0:6782")
      (dict "name" "WEAVE_MTU" "value" "1376") -}}
{{- if .Values.knownPeers -}}
  {{- $defaults = append $defaults (dict "name" "KUBE_PEERS" "value" (join "," .Values.knownPeers)) -}}
{{- end -}}
{{- if .Values.trustedSubnets -}}
  {{- $defaults = append $defaults (dict "name" "WEAVE_TRUSTED_SUBNETS" "value" (join "," .Values.trustedSubnets)) -}}
{{- end -}}
{{- if .Values.passwordSecret -}}
  {{- $defaults = append $defaults (dict "name" "WEAVE_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" .Values.passwordSecret "key" .Values.passwordSecret))) -}}
{{- end -}}
{{- range $defaults -}}
  {{- if not (hasKey $given .name) -}}
    {{- $env = append $env . -}}
  {{- end -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* The init container's two variables, with the weave container's final values. */}}
{{- define "weave-net.initEnv" -}}
{{- $router := include "weave-net.routerEnv" . | fromYamlArray -}}
{{- $env := list -}}
{{- range $name := list "HAIRPIN_MODE" "EXPECT_NPC" -}}
  {{- range $router -}}
    {{- if eq .name $name -}}
      {{- $env = append $env . -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/*
A container's resources: 10m CPU requested and no limit (the spec's "CPU and Memory"), or with
guaranteedQoS.enabled, requests equal to limits (the spec's "Pod Eviction").
Called with (dict "root" $ "container" "weave" | "weaveNpc" | "weaveInit").
*/}}
{{- define "weave-net.resources" -}}
{{- if .root.Values.guaranteedQoS.enabled -}}
{{- $r := index .root.Values.guaranteedQoS.resources .container -}}
requests:
  cpu: {{ $r.cpu | toString | quote }}
  memory: {{ $r.memory | toString | quote }}
limits:
  cpu: {{ $r.cpu | toString | quote }}
  memory: {{ $r.memory | toString | quote }}
{{- else -}}
requests:
  cpu: 10m
{{- end -}}
{{- end -}}
