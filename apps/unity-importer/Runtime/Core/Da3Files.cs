using System;
using System.IO;

namespace Da3js.Importer
{
    /// <summary>File-system helpers that turn .NET I/O exceptions into <see cref="Da3ErrorCode.Io"/> errors naming the path.</summary>
    public static class Da3Files
    {
        /// <summary>Opens a file for sequential reading (64 KiB OS buffer); missing or unreadable files throw <see cref="Da3ErrorCode.Io"/>.</summary>
        public static FileStream OpenRead(string path)
        {
            try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                throw new Da3ImportException(Da3ErrorCode.Io, path, "cannot open: " + e.Message, e);
            }
        }
    }
}
