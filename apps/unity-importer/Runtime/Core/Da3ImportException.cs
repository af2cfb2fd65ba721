using System;

namespace Da3js.Importer
{
    /// <summary>
    /// What went wrong while reading a da3js file. Stable names: the Unity layer shows them in the
    /// console (<c>[DA3 TRUNCATED] scene.ply: …</c>) and tests assert on them.
    /// </summary>
    public enum Da3ErrorCode
    {
        /// <summary>The file ends before the data its header promises.</summary>
        Truncated,
        /// <summary>The first bytes are not the format's magic (e.g. not <c>glTF</c>, <c>ply</c>, <c>PK</c>, <c>\x93NUMPY</c>).</summary>
        BadMagic,
        /// <summary>The header or structure is malformed (bad keyword, bad JSON, inconsistent offsets).</summary>
        BadHeader,
        /// <summary>A value that must be finite is NaN or ±∞ (positions, cameras, Gaussian parameters).</summary>
        NonFinite,
        /// <summary>A count or size is over the <see cref="ImportLimits"/> in force (checked before anything is allocated).</summary>
        TooLarge,
        /// <summary>Arrays disagree in shape (e.g. depth [N,H,W] vs intrinsics [M,3,3]).</summary>
        BadShape,
        /// <summary>A value is out of its allowed range (a negative count, a colour index past the end, a zero quaternion).</summary>
        BadValue,
        /// <summary>A valid file using a feature this importer does not read (a dtype, a compression method, a camera model).</summary>
        Unsupported,
        /// <summary>A required piece is missing (no <c>vertex</c> element, no <c>depth</c> array, no POINTS primitive).</summary>
        Missing,
        /// <summary>A stored checksum does not match the data (ZIP CRC-32, job file SHA-256).</summary>
        Checksum,
        /// <summary>The file system or the network failed.</summary>
        Io,
        /// <summary>The DA3 job service answered with an error or with something that is not the job protocol.</summary>
        Protocol,
        /// <summary>The operation was canceled by the caller.</summary>
        Canceled,
    }

    /// <summary>
    /// The one error type of the importer core: every foreseeable failure of a reader or of the job
    /// client throws it, with a <see cref="Code"/>, the file (or URL) it concerns, and a message that
    /// names the offending value. Readers never return half-filled data: they throw before the caller
    /// sees anything.
    /// </summary>
    public sealed class Da3ImportException : Exception
    {
        /// <summary>The kind of failure.</summary>
        public Da3ErrorCode Code { get; }

        /// <summary>The file name, URL or format the error concerns (may be empty).</summary>
        public string Where { get; }

        /// <summary>Creates the error; <paramref name="where"/> is prefixed to the message.</summary>
        public Da3ImportException(Da3ErrorCode code, string where, string message, Exception inner = null)
            : base(Format(code, where, message), inner)
        {
            Code = code;
            Where = where ?? string.Empty;
        }

        static string Format(Da3ErrorCode code, string where, string message)
        {
            var name = CodeName(code);
            return string.IsNullOrEmpty(where) ? "[DA3 " + name + "] " + message : "[DA3 " + name + "] " + where + ": " + message;
        }

        /// <summary>The upper-case name of a code as it appears in messages (<c>TRUNCATED</c>, <c>BAD_MAGIC</c>, …).</summary>
        public static string CodeName(Da3ErrorCode code)
        {
            switch (code)
            {
                case Da3ErrorCode.Truncated: return "TRUNCATED";
                case Da3ErrorCode.BadMagic: return "BAD_MAGIC";
                case Da3ErrorCode.BadHeader: return "BAD_HEADER";
                case Da3ErrorCode.NonFinite: return "NON_FINITE";
                case Da3ErrorCode.TooLarge: return "TOO_LARGE";
                case Da3ErrorCode.BadShape: return "BAD_SHAPE";
                case Da3ErrorCode.BadValue: return "BAD_VALUE";
                case Da3ErrorCode.Unsupported: return "UNSUPPORTED";
                case Da3ErrorCode.Missing: return "MISSING";
                case Da3ErrorCode.Checksum: return "CHECKSUM";
                case Da3ErrorCode.Io: return "IO";
                case Da3ErrorCode.Protocol: return "PROTOCOL";
                case Da3ErrorCode.Canceled: return "CANCELED";
                default: return code.ToString().ToUpperInvariant();
            }
        }
    }
}
