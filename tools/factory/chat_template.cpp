// The Gemma 4 chat template written by tessera-factory (spec §8.5): turns delimited by
// <|turn>role\n ... <turn|>\n, "assistant" rendered as "model", image/audio/video items as their
// placeholders, and a pre-closed thought channel on the generation prompt when thinking is off.
// Uses only plain Jinja (if/for/set, filters trim and length) so small template engines run it.
#include "tools/factory/vocab.h"

namespace tessera::factory {

const std::string& gemma4_chat_template() {
  static const std::string kTemplate = R"TPL({{- bos_token -}}
{%- if messages | length > 0 and messages[0]['role'] == 'system' -%}
    {%- set system_message = messages[0]['content'] -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set system_message = '' -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- if system_message or enable_thinking -%}
    {{- '<|turn>system\n' -}}
    {%- if enable_thinking -%}
        {{- '<|think|>\n' -}}
    {%- endif -%}
    {%- if system_message is string -%}
        {{- system_message | trim -}}
    {%- else -%}
        {%- for item in system_message -%}
            {%- if item['type'] == 'text' -%}
                {{- item['text'] | trim -}}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- '<turn|>\n' -}}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if message['role'] == 'assistant' or message['role'] == 'model' -%}
        {%- set role = 'model' -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{- '<|turn>' + role + '\n' -}}
    {%- if message['content'] is string -%}
        {{- message['content'] | trim -}}
    {%- else -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'text' -%}
                {{- item['text'] | trim -}}
            {%- elif item['type'] == 'image' -%}
                {{- '\n\n<|image|>\n\n' -}}
            {%- elif item['type'] == 'audio' -%}
                {{- '<|audio|>' -}}
            {%- elif item['type'] == 'video' -%}
                {{- '\n\n<|video|>\n\n' -}}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- '<turn|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{- '<|turn>model\n' -}}
    {%- if not enable_thinking -%}
        {{- '<|channel>thought\n<channel|>' -}}
    {%- endif -%}
{%- endif -%}
)TPL";
  return kTemplate;
}

}  // namespace tessera::factory
