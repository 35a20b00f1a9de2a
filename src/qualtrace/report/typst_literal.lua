-- Source text is data in Quarto's Typst too: Typst markup shorthands that pandoc's Typst writer
-- leaves bare in text (`...` an ellipsis, `--`/`---` dashes, `-?` a soft hyphen; pandoc 3.6,
-- which Quarto 1.7 ships, escapes none of them) are written as escaped raw Typst instead.
-- The pandoc path does the same rewrite on pandoc's JSON (render.typst_literal).
local escaped = { ["..."] = "\\.\\.\\.", ["--"] = "-\\-", ["-?"] = "-\\?" }

function Str(el)
  local text = el.text
  if not (text:find("...", 1, true) or text:find("--", 1, true) or text:find("-?", 1, true)) then
    return nil
  end
  local out, from, i = {}, 1, 1
  local function flush(upto)
    if upto >= from then out[#out + 1] = pandoc.Str(text:sub(from, upto)) end
  end
  while i <= #text do
    local piece = escaped[text:sub(i, i + 2)] and text:sub(i, i + 2)
                  or escaped[text:sub(i, i + 1)] and text:sub(i, i + 1)
    if piece then
      flush(i - 1)
      out[#out + 1] = pandoc.RawInline("typst", escaped[piece])
      i = i + #piece
      from = i
    else
      i = i + 1
    end
  end
  flush(#text)
  return out
end
