using System;

namespace Da3js.Importer
{
    /// <summary>
    /// Upper bounds applied to every size read from a file before anything is allocated from it.
    /// The defaults admit the largest scenes da3js writes (GLB points are capped at 1,000,000 by the
    /// exporter; a 4,096-view npz at 4,096 px) with room to spare, and refuse headers that would make
    /// the importer allocate gigabytes from a few bytes of a hostile file.
    /// </summary>
    public sealed class ImportLimits
    {
        /// <summary>Most points (PLY vertices, GLB POINTS, COLMAP points3D) in one file. Default 100,000,000.</summary>
        public long MaxPoints = 100000000;

        /// <summary>Most 3D Gaussians in one file. Default 20,000,000.</summary>
        public long MaxGaussians = 20000000;

        /// <summary>Most views (cameras / depth maps) in one file. Default 4,096.</summary>
        public int MaxViews = 4096;

        /// <summary>Largest image side (depth map width or height, pixels). Default 16,384.</summary>
        public int MaxImageSide = 16384;

        /// <summary>Largest text header (PLY header, .npy header dict), bytes. Default 1 MiB.</summary>
        public int MaxHeaderBytes = 1 << 20;

        /// <summary>Largest glTF JSON chunk, bytes. Default 64 MiB.</summary>
        public int MaxJsonBytes = 64 << 20;

        /// <summary>Largest single array or ZIP entry once decompressed, bytes. Default 2 GiB − 1 (a .NET array's limit).</summary>
        public long MaxArrayBytes = int.MaxValue;

        /// <summary>Largest text line in ASCII PLY and COLMAP text files, bytes. Default 1 MiB.</summary>
        public int MaxLineBytes = 1 << 20;

        /// <summary>Largest ratio of uncompressed to compressed size accepted for a deflated ZIP entry (zip bombs). Default 1,100.</summary>
        public long MaxDeflateRatio = 1100;

        /// <summary>The defaults.</summary>
        public static ImportLimits Default { get { return new ImportLimits(); } }

        /// <summary>Throws <see cref="Da3ErrorCode.TooLarge"/> when <paramref name="value"/> exceeds <paramref name="max"/>.</summary>
        public static void Check(string where, string what, long value, long max)
        {
            if (value < 0) throw new Da3ImportException(Da3ErrorCode.BadValue, where, what + " is negative (" + value + ")");
            if (value > max) throw new Da3ImportException(Da3ErrorCode.TooLarge, where, what + " is " + value + ", over the limit of " + max + " (ImportLimits)");
        }
    }
}
