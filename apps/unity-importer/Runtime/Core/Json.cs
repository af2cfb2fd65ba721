using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Da3js.Importer
{
    /// <summary>
    /// A strict JSON (RFC 8259) parser and writer for the glTF JSON chunk and the job protocol.
    /// Values become <c>Dictionary&lt;string, object&gt;</c> (ordinal keys, duplicates refused),
    /// <c>List&lt;object&gt;</c>, <c>double</c>, <c>string</c>, <c>bool</c> or null. Nesting is
    /// limited to <see cref="MaxDepth"/> levels so a hostile file cannot exhaust the stack.
    /// </summary>
    public static class Json
    {
        /// <summary>Deepest nesting accepted.</summary>
        public const int MaxDepth = 128;

        /// <summary>Parses one JSON value (the whole text). Throws <see cref="Da3ErrorCode.BadHeader"/> with the offset on any error.</summary>
        public static object Parse(string text, string where)
        {
            var p = new Parser(text, where);
            p.Ws();
            var v = p.Value(0);
            p.Ws();
            if (p.I != text.Length) p.Fail("unexpected text after the JSON value");
            return v;
        }

        sealed class Parser
        {
            readonly string _s;
            readonly string _where;
            public int I;

            public Parser(string s, string where) { _s = s; _where = where; }

            public void Fail(string message)
            {
                throw new Da3ImportException(Da3ErrorCode.BadHeader, _where, "invalid JSON at offset " + I + ": " + message);
            }

            public void Ws()
            {
                while (I < _s.Length)
                {
                    var c = _s[I];
                    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') I++;
                    else break;
                }
            }

            public object Value(int depth)
            {
                if (depth > MaxDepth) Fail("nested deeper than " + MaxDepth + " levels");
                if (I >= _s.Length) Fail("unexpected end");
                var c = _s[I];
                switch (c)
                {
                    case '{': return Obj(depth);
                    case '[': return Arr(depth);
                    case '"': return Str();
                    case 't': Lit("true"); return true;
                    case 'f': Lit("false"); return false;
                    case 'n': Lit("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9')) return Num();
                        Fail("unexpected character '" + c + "'");
                        return null;
                }
            }

            void Lit(string word)
            {
                if (string.CompareOrdinal(_s, I, word, 0, word.Length) != 0) Fail("expected " + word);
                I += word.Length;
            }

            Dictionary<string, object> Obj(int depth)
            {
                var d = new Dictionary<string, object>(StringComparer.Ordinal);
                I++;
                Ws();
                if (I < _s.Length && _s[I] == '}') { I++; return d; }
                for (;;)
                {
                    Ws();
                    if (I >= _s.Length || _s[I] != '"') Fail("expected a string key");
                    var key = Str();
                    Ws();
                    if (I >= _s.Length || _s[I] != ':') Fail("expected ':'");
                    I++;
                    Ws();
                    var v = Value(depth + 1);
                    if (d.ContainsKey(key)) Fail("duplicate key \"" + key + "\"");
                    d[key] = v;
                    Ws();
                    if (I >= _s.Length) Fail("unexpected end in an object");
                    if (_s[I] == ',') { I++; continue; }
                    if (_s[I] == '}') { I++; return d; }
                    Fail("expected ',' or '}'");
                }
            }

            List<object> Arr(int depth)
            {
                var a = new List<object>();
                I++;
                Ws();
                if (I < _s.Length && _s[I] == ']') { I++; return a; }
                for (;;)
                {
                    Ws();
                    a.Add(Value(depth + 1));
                    Ws();
                    if (I >= _s.Length) Fail("unexpected end in an array");
                    if (_s[I] == ',') { I++; continue; }
                    if (_s[I] == ']') { I++; return a; }
                    Fail("expected ',' or ']'");
                }
            }

            string Str()
            {
                I++;
                var sb = new StringBuilder();
                for (;;)
                {
                    if (I >= _s.Length) Fail("unterminated string");
                    var c = _s[I++];
                    if (c == '"') return sb.ToString();
                    if (c < 0x20) Fail("control character in a string");
                    if (c != '\\') { sb.Append(c); continue; }
                    if (I >= _s.Length) Fail("unterminated escape");
                    var e = _s[I++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            if (I + 4 > _s.Length) Fail("short \\u escape");
                            int code;
                            if (!int.TryParse(_s.Substring(I, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out code)) Fail("bad \\u escape");
                            sb.Append((char)code);
                            I += 4;
                            break;
                        default: Fail("bad escape \\" + e); break;
                    }
                }
            }

            double Num()
            {
                var start = I;
                if (_s[I] == '-') I++;
                if (I >= _s.Length) Fail("bad number");
                if (_s[I] == '0') I++;
                else if (_s[I] >= '1' && _s[I] <= '9') { while (I < _s.Length && char.IsDigit(_s[I])) I++; }
                else Fail("bad number");
                if (I < _s.Length && _s[I] == '.')
                {
                    I++;
                    if (I >= _s.Length || !char.IsDigit(_s[I])) Fail("bad fraction");
                    while (I < _s.Length && char.IsDigit(_s[I])) I++;
                }
                if (I < _s.Length && (_s[I] == 'e' || _s[I] == 'E'))
                {
                    I++;
                    if (I < _s.Length && (_s[I] == '+' || _s[I] == '-')) I++;
                    if (I >= _s.Length || !char.IsDigit(_s[I])) Fail("bad exponent");
                    while (I < _s.Length && char.IsDigit(_s[I])) I++;
                }
                return double.Parse(_s.Substring(start, I - start), NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        // ---------------------------------------------------------------- typed access helpers

        /// <summary>The object at <paramref name="v"/>, or a <see cref="Da3ErrorCode.BadHeader"/> naming <paramref name="path"/>.</summary>
        public static Dictionary<string, object> Obj(object v, string where, string path)
        {
            var d = v as Dictionary<string, object>;
            if (d == null) throw new Da3ImportException(Da3ErrorCode.BadHeader, where, path + " must be a JSON object");
            return d;
        }

        /// <summary>The array at <paramref name="v"/>.</summary>
        public static List<object> Arr(object v, string where, string path)
        {
            var a = v as List<object>;
            if (a == null) throw new Da3ImportException(Da3ErrorCode.BadHeader, where, path + " must be a JSON array");
            return a;
        }

        /// <summary>A member or null.</summary>
        public static object Get(Dictionary<string, object> o, string key)
        {
            object v;
            return o != null && o.TryGetValue(key, out v) ? v : null;
        }

        /// <summary>A number member that must be an integer in [min, max].</summary>
        public static long Int(Dictionary<string, object> o, string key, string where, string path, long min, long max, long? fallback = null)
        {
            var v = Get(o, key);
            if (v == null)
            {
                if (fallback.HasValue) return fallback.Value;
                throw new Da3ImportException(Da3ErrorCode.BadHeader, where, path + "." + key + " is missing");
            }
            if (!(v is double)) throw new Da3ImportException(Da3ErrorCode.BadHeader, where, path + "." + key + " must be a number");
            var d = (double)v;
            if (d != Math.Floor(d) || d < min || d > max) throw new Da3ImportException(Da3ErrorCode.BadValue, where, path + "." + key + " = " + d.ToString("R", CultureInfo.InvariantCulture) + " must be an integer in [" + min + ", " + max + "]");
            return (long)d;
        }

        /// <summary>A string member or null.</summary>
        public static string Str(Dictionary<string, object> o, string key)
        {
            return Get(o, key) as string;
        }

        // ---------------------------------------------------------------- writing

        /// <summary>A JSON string literal (quoted, escaped).</summary>
        public static string Quote(string s)
        {
            var sb = new StringBuilder(s.Length + 2);
            sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
            return sb.ToString();
        }

        /// <summary>Serialises dictionaries, lists, strings, numbers, bools and null (what <see cref="Parse"/> returns).</summary>
        public static string Write(object v)
        {
            var sb = new StringBuilder();
            WriteTo(sb, v);
            return sb.ToString();
        }

        static void WriteTo(StringBuilder sb, object v)
        {
            if (v == null) { sb.Append("null"); return; }
            var s = v as string;
            if (s != null) { sb.Append(Quote(s)); return; }
            if (v is bool) { sb.Append((bool)v ? "true" : "false"); return; }
            if (v is double || v is float || v is int || v is long)
            {
                var d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
                if (!Finite.Is(d)) throw new ArgumentException("JSON cannot hold " + d);
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return;
            }
            var dict = v as IDictionary<string, object>;
            if (dict != null)
            {
                sb.Append('{');
                var first = true;
                foreach (var kv in dict)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    sb.Append(Quote(kv.Key)).Append(':');
                    WriteTo(sb, kv.Value);
                }
                sb.Append('}');
                return;
            }
            var list = v as System.Collections.IEnumerable;
            if (list != null)
            {
                sb.Append('[');
                var first = true;
                foreach (var item in list)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteTo(sb, item);
                }
                sb.Append(']');
                return;
            }
            throw new ArgumentException("cannot write " + v.GetType() + " as JSON");
        }
    }
}
